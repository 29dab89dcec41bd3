"""Properties over generated notebooks: whatever the cells hold, the converter either
raises a CrunchError or returns a script that Python compiles."""

from __future__ import annotations

import ast

from hypothesis import given, settings
from hypothesis import strategies as st

from crunch_cli.convert import convert_cells
from crunch_cli.convert.magics import comment_magics
from crunch_cli.errors import CrunchError

FRAGMENTS = [
    "import os",
    "import pandas  # == 1.0",
    "import pandas  # == 2.0",
    "import numpy  # [extra]",
    "import x  # == aaa",
    "import y  # @ignore",
    "from . import sibling",
    "from __future__ import annotations",
    "def f():",
    "def g(a, b=1):",
    "async def h():",
    "    await other()",
    "class A:",
    "def f[T](x: T) -> T:",
    "class B[T]:",
    "type Alias = list[int]",
    "base = importr('base')",
    "@decorator",
    "    return X",
    "    pass",
    "        pass",
    "    import lightgbm",
    "X = 1",
    "x = 1; import sys",
    "import json; y = 2",
    "if X:",
    "else:",
    "for i in range(3):",
    "while True:",
    "with open('f') as handle:",
    "try:",
    "except* ValueError:",
    "except Exception:",
    "finally:",
    "match command:",
    "    case 1:",
    "!ls -la",
    "    !nvidia-smi",
    "%time f()",
    "    %timeit g()",
    "%%bash",
    "%%time",
    "%%writefile helper.py",
    "pip install lightgbm",
    "files = !ls",
    "obj?",
    "??obj",
    "# @crunch/keep:on",
    "# @crunch/keep:none",
    "# @crunch/keep:off",
    "# a comment",
    "s = '''",
    "'''",
    '"""',
    "text = 'it''s !'",
    "f'{x!r} %'",
    "total = (",
    ")",
    "value = 1 + \\",
    "lambda: (yield)",
    "return 1",
    "yield 2",
    "global q",
    "nonlocal q",
    "break",
    "del x",
    "x: int",
    "print('!', \"%\")",
    "---",
    "file: a.txt",
    "",
    "    ",
    "\t",
]

lines = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12))
sources = st.lists(lines, max_size=8).map("\n".join)
cells = st.lists(
    st.one_of(
        sources,
        st.builds(
            lambda kind, source: {"cell_type": kind, "source": source, "metadata": {}},
            st.sampled_from(["code", "markdown", "raw"]),
            sources,
        ),
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(cells=cells, bad_cells=st.sampled_from(["error", "comment", "comment-cell"]))
def test_conversion_gives_a_compiling_script_or_a_crunch_error(cells, bad_cells):
    try:
        conversion = convert_cells(cells, bad_cells=bad_cells)
    except CrunchError:
        return
    ast.parse(conversion.script)
    compile(conversion.script, "main.py", "exec", dont_inherit=True)
    assert conversion.script == "" or conversion.script.endswith("\n")


@settings(max_examples=300, deadline=None)
@given(source=sources)
def test_magic_commenting_keeps_every_line_in_place(source):
    converted = comment_magics(source)

    assert converted.count("\n") == source.count("\n")
    for before, after in zip(source.split("\n"), converted.split("\n"), strict=True):
        assert after == before or after.endswith(before.lstrip())
