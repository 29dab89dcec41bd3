"""IPython syntax that a plain Python interpreter cannot run, turned into comments.

The pass walks the cell line by line and tracks strings, brackets and backslash
continuations, like a tokenizer would, so that only lines that *start a statement* are
candidates: `!`, `%` or `?` inside a string or a call spanning several lines are data, not
magics. It keeps the number of lines, so later messages point at the user's own lines.
Each rule below names the notebook habit that motivated it.
"""

from __future__ import annotations

import dataclasses
import keyword
import re

# `pip install x` typed without `%` or `!` works in IPython (autocall of the `pip` magic).
# Any word may follow (`pip list`, `pip3 uninstall -y x`) but not a keyword, since
# `pip if ok else other` and `pip in tools` are ordinary Python.
_PIP = re.compile(r"pip3?\s+(?P<word>[A-Za-z_]\w*)")

# `files = !ls data` and `result = %timeit -o f()` capture a magic's output.
_CAPTURE = re.compile(r"[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[!%]")

# Cell magics that run their body as Python in the kernel (timing, profiling, capturing
# its output): what the body imports and defines exists afterwards, so a `def train()`
# written under `%%time` must reach the script. (`%%timeit` runs the body inside a timing
# function, but its definitions are still what the user meant to submit.) Every other cell
# magic gets another language (`%%bash`, `%%html`, `%%writefile`'s file) or runs the body
# elsewhere (`%%script python3`): the whole cell is commented out.
PYTHON_CELL_MAGICS = frozenset({"capture", "debug", "memit", "prun", "time", "timeit"})

_BRACKETS = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}


@dataclasses.dataclass
class Scanner:
    """Where the previous lines left us: inside a string, brackets or a continuation."""

    quote: str | None = None  # the open string's delimiter, when a triple-quoted one spans lines
    depth: int = 0
    continued: bool = False

    @property
    def at_statement_start(self) -> bool:
        return self.quote is None and self.depth == 0 and not self.continued

    def scan(self, line: str) -> str:
        """Consume one physical line; return its code with strings and comment removed."""
        code = []
        index, length = 0, len(line)
        while index < length:
            if self.quote is not None:
                end = _string_end(line, index, self.quote)
                if end < 0:
                    index = length
                    break
                index, self.quote = end, None
                continue
            char = line[index]
            if char == "#":
                break
            if char in "'\"":
                self.quote = char * 3 if line.startswith(char * 3, index) else char
                index += len(self.quote)
                continue
            self.depth = max(0, self.depth + _BRACKETS.get(char, 0))
            code.append(char)
            index += 1
        stripped = "".join(code).rstrip()
        self.continued = stripped.endswith("\\")
        if self.quote is not None and len(self.quote) == 1 and not line.endswith("\\"):
            # An unterminated one-line string: let the parser report it, and do not let it
            # swallow the rest of the cell.
            self.quote = None
        return stripped


def _string_end(line: str, start: int, quote: str) -> int:
    """Index just past the closing `quote` at or after `start`, or -1 if the line has none."""
    index = start
    while index < len(line):
        if line[index] == "\\":
            index += 2
            continue
        if line.startswith(quote, index):
            return index + len(quote)
        index += 1
    return -1


def _is_magic(stripped: str) -> bool:
    # `!ls`, `%matplotlib inline`, `%%time` further down a cell, `?obj`, `??obj`.
    if stripped[:1] in ("!", "%", "?"):
        return True
    match = _PIP.match(stripped)
    if match is not None and not keyword.iskeyword(match.group("word")):
        return True
    return _CAPTURE.match(stripped) is not None


def _commented(line: str) -> str:
    """`#%pip install x` at the top level; `pass  #!ls` when indented, so a block whose
    only statement was a magic (`if gpu:\\n    !nvidia-smi`) still has a body."""
    body = line.lstrip()
    indent = line[: len(line) - len(body)]
    return f"{indent}pass  #{body}" if indent else f"#{line}"


def _cell_magic(source: str) -> str | None:
    """`bash` for a `%%bash` cell, `writefile` for `%%writefile f`...: the first line that
    is not blank decides for the whole cell. None when it is no cell magic."""
    for line in source.split("\n"):
        if line.strip():
            stripped = line.lstrip()
            if not stripped.startswith("%%"):
                return None
            words = stripped[2:].split(maxsplit=1)
            return words[0] if words else ""
    return None


def _comment_cell_magic(source: str, name: str) -> str:
    lines = source.split("\n")
    if name not in PYTHON_CELL_MAGICS:
        return "\n".join(f"#{line}" if line.strip() else line for line in lines)
    first = next(number for number, line in enumerate(lines) if line.strip())
    head = "\n".join([*lines[:first], f"#{lines[first]}"])
    if first + 1 == len(lines):  # the magic alone, not even a newline after it
        return head
    return head + "\n" + comment_line_magics("\n".join(lines[first + 1 :]))


def comment_line_magics(source: str) -> str:
    lines = source.split("\n")
    scanner = Scanner()
    magic_continues = False
    for number, line in enumerate(lines):
        if magic_continues:
            # `!pip install a \` goes on on the next line: that line is the magic's too.
            # A comment line may have any indentation, so no `pass` is needed here.
            lines[number] = f"#{line}"
            magic_continues = line.rstrip().endswith("\\")
            continue
        stripped = line.strip()
        if scanner.at_statement_start and stripped and _is_magic(stripped):
            lines[number] = _commented(line)
            magic_continues = stripped.endswith("\\")
            continue
        starts_statement = scanner.at_statement_start
        code = scanner.scan(line)
        # `obj?` and `obj.method??` ask for help; a `?` outside strings and comments is
        # never Python, but `print("why?")` and `x = 1  # why?` are.
        if starts_statement and scanner.at_statement_start and _is_help(code):
            lines[number] = _commented(line)
    return "\n".join(lines)


def _is_help(code: str) -> bool:
    return code.endswith("?") or code.lstrip().startswith("?")


def comment_magics(source: str) -> str:
    """The cell with every IPython-only line commented out, same number of lines."""
    name = _cell_magic(source)
    if name is not None:
        return _comment_cell_magic(source, name)
    return comment_line_magics(source)
