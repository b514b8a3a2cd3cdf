"""The grammar's generated standalone parser: the imports it makes lazy still work."""

from __future__ import annotations

import logging
import pickle

from lark import Lark as FullLark
from lark.tools.standalone import gen_standalone

from querylang import parser


def _lark_source() -> str:
    import io

    out = io.StringIO()
    full = FullLark(parser.grammar_text(), maybe_placeholders=False, **parser._OPTIONS)
    gen_standalone(full, out=out)
    return out.getvalue()


def test_the_installed_lark_writes_every_text_the_edits_look_for() -> None:
    # If a new Lark wrote other text, the module would be kept whole (still correct) and
    # this test would say the start-up saving is lost.
    source = _lark_source()
    assert all(source.count(old) == 1 for old, _ in parser._EDITS)
    lightened = parser._lighten(source)
    assert "import logging\n" not in lightened and "import pickle" not in lightened
    compile(lightened, "<generated>", "exec")


def test_a_text_without_them_is_kept_as_lark_wrote_it() -> None:
    source = _lark_source().replace("import pickle, zlib, base64\n", "import pickle\n")
    assert parser._lighten(source) == source


def test_the_lazy_modules_are_the_real_ones_on_first_use() -> None:
    module = parser._runtime()
    # the logger Lark configures (its own handler, CRITICAL), made when first used
    assert module.logger.level == logging.CRITICAL
    assert module.logger is logging.getLogger("lark")  # and bound in the stand-in's place
    assert module.pickle.loads(module.pickle.dumps([1, "a"])) == [1, "a"]
    assert module.pickle is pickle
    assert module.base64.b64encode(b"ab") == b"YWI="
