from querylang.testing import conformance_tests

conformance_tests("querylang_edgelog")
