"""querylang's built-in providers, each an ordinary plugin behind its own entry point."""
