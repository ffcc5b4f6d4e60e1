"""The export folder's JSON files, read once and safely, and its paged streams.

:class:`JsonFiles` reads only files that resolve inside the folder (after symbolic links),
each of at most ``max_bytes``, and keeps each parsed; every way of failing (not UTF-8, not
JSON, nested too deep, a number too long, too large, a folder where a file belongs) is a
:class:`~cmsf_core.adapters.files.errors.PlatformFileError`.  :func:`page_files` finds a
stream's files (``name.json`` or ``name.1.json`` .. ``name.N.json``) and :func:`paged_rows`
reads their envelopes, checked against each other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from cmsf_core.adapters.files.errors import PlatformFileError
from cmsf_core.adapters.files.fields import json_object, kind_of
from cmsf_core.domain.errors import shown

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_NUMBER_DIGITS",
    "JsonFiles",
    "page_files",
    "paged_results",
    "paged_rows",
    "streamed_results",
]

#: The largest file read (256 MiB; a 1,000-row page of the API is about 200 KB).
MAX_FILE_BYTES = 256 * 1024 * 1024

#: The most digits a JSON integer may have (counts fit; a 5,000-digit number is refused).
MAX_NUMBER_DIGITS = 20


class _NumberError(ValueError):
    """A JSON integer with more digits than :data:`MAX_NUMBER_DIGITS`."""


def _integer(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_NUMBER_DIGITS:
        raise _NumberError(
            f"holds a number of {digits} digits (at most {MAX_NUMBER_DIGITS} are read)"
        )
    return int(text)


def _constant(name: str) -> object:
    raise _NumberError(f"holds {name}, which is not JSON")


class JsonFiles:
    """Files read once and kept parsed, with helpers raising :class:`PlatformFileError`.

    Only files that resolve inside ``root`` (after symbolic links) are read, each of at
    most ``max_bytes``.
    """

    def __init__(self, root: Path, max_bytes: int = MAX_FILE_BYTES) -> None:
        self._cache: dict[Path, Any] = {}
        self.root = root.resolve()
        self.max_bytes = max_bytes

    def inside(self, path: Path) -> Path:
        """``path`` if it resolves inside the root, else :class:`PlatformFileError`."""
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError, ValueError) as error:  # a loop, a NUL, ...
            raise PlatformFileError(path, "file", None, f"cannot be resolved ({error})") from None
        if not resolved.is_relative_to(self.root):
            raise PlatformFileError(
                path,
                "file",
                None,
                f"resolves outside the export folder {str(self.root)!r} (a symbolic link?); "
                "only files inside it are read",
            )
        return resolved

    def exists(self, path: Path) -> bool:
        """Whether ``path`` exists (inside the root: a link out is an error, not absent)."""
        try:
            if not path.exists() and not path.is_symlink():
                return False
        except (OSError, ValueError) as error:
            raise PlatformFileError(path, "file", None, f"cannot be read ({error})") from None
        self.inside(path)
        return True

    def children(self, folder: Path) -> list[Path]:
        """The entries of ``folder`` (none if it is missing), once it is known inside."""
        if not self.exists(folder):
            return []
        try:
            return list(folder.iterdir()) if folder.is_dir() else []
        except OSError as error:
            raise PlatformFileError(folder, "folder", None, f"cannot be read ({error})") from None

    def load(self, path: Path, *, keep: bool = True) -> Any:
        """The parsed JSON of ``path``; every way of failing is a :class:`PlatformFileError`.

        ``keep=False`` reads a file that is not kept (a tracking stream's page, read
        once into events): a kept one is still served from memory."""
        if path in self._cache:
            return self._cache[path]
        data = self._parse(path, self._read(path))
        if keep:
            self._cache[path] = data
        return data

    def load_list(self, path: Path, what: str, *, optional: bool = False) -> list[Any]:
        """The JSON list of ``path`` (a file of ``what``: ``"clients"``, ...); an
        ``optional`` file that is missing is an empty list."""
        if optional and not self.exists(path):
            return []
        rows = self.load(path)
        if not isinstance(rows, list):
            raise PlatformFileError(
                path, "file", None, f"must be a list of {what} (got {kind_of(rows)})"
            )
        return rows

    def _read(self, path: Path) -> bytes:
        if not self.exists(path):
            raise PlatformFileError(path, "file", None, "the file is missing")
        try:
            if path.is_dir():
                raise PlatformFileError(path, "file", None, "is a folder, not a JSON file")
            with path.open("rb") as stream:
                raw = stream.read(self.max_bytes + 1)
        except FileNotFoundError:
            raise PlatformFileError(path, "file", None, "the file is missing") from None
        except OSError as error:
            raise PlatformFileError(path, "file", None, f"cannot be read ({error})") from None
        if len(raw) > self.max_bytes:
            raise PlatformFileError(
                path,
                "file",
                None,
                f"is larger than {self.max_bytes:,} bytes, the most read from one file; "
                "export the stream in pages (name.1.json, name.2.json, ...)",
            )
        return raw

    def _parse(self, path: Path, raw: bytes) -> Any:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise PlatformFileError(
                path,
                f"byte {error.start}",
                None,
                f"is not UTF-8 text (got {shown(raw[error.start : error.start + 4])}); "
                "the API answers in UTF-8",
            ) from None
        try:
            return json.loads(text, parse_int=_integer, parse_constant=_constant)
        except json.JSONDecodeError as error:
            raise PlatformFileError(
                path,
                f"line {error.lineno} column {error.colno}",
                None,
                f"not valid JSON ({error.msg}); is the file truncated?",
            ) from None
        except RecursionError:
            raise PlatformFileError(
                path, "file", None, "nests too deep to read (the API's answers nest a few levels)"
            ) from None
        except ValueError as error:  # _NumberError, or a limit of the interpreter
            raise PlatformFileError(path, "file", None, str(error)) from None


def page_files(json_files: JsonFiles, folder: Path, stem: str) -> list[Path]:
    """``stem.json``, or ``stem.1.json`` .. ``stem.N.json``, or nothing."""
    single = folder / f"{stem}.json"
    numbered: dict[int, Path] = {}
    pattern = re.compile(rf"^{re.escape(stem)}\.(\d{{1,9}})\.json$")
    for child in json_files.children(folder):
        found = pattern.match(child.name)
        if found:
            numbered[int(found.group(1))] = child
    has_single = json_files.exists(single)
    if numbered and has_single:
        raise PlatformFileError(
            single,
            "file",
            None,
            f"{stem}.json and numbered pages {stem}.<n>.json both exist; keep one form",
        )
    if not numbered:
        return [single] if has_single else []
    expected = list(range(1, len(numbered) + 1))
    if sorted(numbered) != expected:
        missing = sorted(set(range(1, max(numbered) + 1)) - set(numbered))
        raise PlatformFileError(
            folder / f"{stem}.{missing[0] if missing else 1}.json",
            "file",
            None,
            f"page files must be numbered 1..N without gaps (found {sorted(numbered)})",
        )
    return [numbered[n] for n in expected]


def paged_rows(json_files: JsonFiles, files: Sequence[Path]) -> Iterator[tuple[Path, int, Any]]:
    """Every row of a paged stream, with its file and index, after checking each envelope
    against its neighbours: page numbers, page count, records on the page and the total."""
    for path, results in paged_results(json_files, files):
        for index, row in enumerate(results):
            yield path, index, row


def paged_results(
    json_files: JsonFiles, files: Sequence[Path], *, keep: bool = True
) -> list[tuple[Path, list[Any]]]:
    """Each file of a paged stream and its ``Results``, after checking each envelope
    against its neighbours (as :func:`paged_rows`); ``keep=False``: the files are not
    kept once read (:meth:`JsonFiles.load`)."""
    pages = [_page(json_files, path, number, keep) for number, path in enumerate(files, 1)]
    _check_across(pages, sum(len(results) for _path, _envelope, results in pages))
    return [(path, results) for path, _envelope, results in pages]


def streamed_results(
    json_files: JsonFiles, files: Sequence[Path]
) -> Iterator[tuple[Path, list[Any]]]:
    """:func:`paged_results` a file at a time, none kept: each file and its ``Results``
    once its envelope is checked; the checks across the files after the last.  Read to its
    end, it raises the error :func:`paged_results` raises, having yielded the files before
    it: a reader that raises no error of its own while reading them ends as it would."""
    envelopes = []
    total = 0
    for number, path in enumerate(files, 1):
        page, envelope, results = _page(json_files, path, number, keep=False)
        envelopes.append((page, _counts(envelope), results[:0]))
        total += len(results)
        del envelope  # only its counts are kept
        yield page, results
    _check_across(envelopes, total)


def _counts(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an envelope checked across the files."""
    return {k: envelope[k] for k in ("NumberOfPages", "TotalNumberOfRecords") if k in envelope}


def _page(
    json_files: JsonFiles, path: Path, number: int, keep: bool
) -> tuple[Path, Mapping[str, Any], list[Any]]:
    """Page file ``number`` of a stream: its envelope and ``Results``, checked alone."""
    envelope = json_object(path, "envelope", json_files.load(path, keep=keep))
    results = envelope.get("Results")
    if not isinstance(results, list):
        raise PlatformFileError(
            path,
            "envelope",
            "Results",
            "must be a list of rows (a paged envelope: Results, PageNumber, PageSize, "
            f"RecordsOnThisPage, TotalNumberOfRecords, NumberOfPages; got {kind_of(results)})",
        )
    checks = {
        "PageNumber": number,
        "RecordsOnThisPage": len(results),
    }
    for field, expected in checks.items():
        if field in envelope and envelope[field] != expected:
            raise PlatformFileError(
                path, "envelope", field, f"must be {expected} (got {shown(envelope[field])})"
            )
    return path, envelope, results


def _check_across(pages: Sequence[tuple[Path, Mapping[str, Any], list[Any]]], total: int) -> None:
    """The envelopes' page count and total, against the page files and their rows."""
    for path, envelope, _results in pages:
        count = envelope.get("NumberOfPages")
        if count is not None and count != len(pages) and not (count == 0 and total == 0):
            raise PlatformFileError(
                path,
                "envelope",
                "NumberOfPages",
                f"must be {len(pages)}, the number of page files (got {shown(count)}); "
                "is a page missing from the export?",
            )
        stated = envelope.get("TotalNumberOfRecords")
        if stated is not None and stated != total:
            raise PlatformFileError(
                path,
                "envelope",
                "TotalNumberOfRecords",
                f"must be {total}, the rows in the page files (got {shown(stated)})",
            )
