"""Portal list pagination that never counts the whole table.

`keyset_page` walks an ordering by its key columns (cursor = the last row's key values), so a
deep page costs the same as the first one on a million rows. `peek_page` is a capped offset
page for small lists. Both fetch `page_size + 1` rows to know whether a next page exists.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from core.input_guard import text_problem

PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 50


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None = None
    previous_cursor: str | None = None
    number: int | None = None  # offset pages only
    has_next: bool = False
    has_previous: bool = False
    page_size: int = DEFAULT_PAGE_SIZE
    extra: dict[str, Any] = field(default_factory=dict)

    def __iter__(self):  # templates loop over the page directly
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def page_size_from(value: Any, *, default: int = DEFAULT_PAGE_SIZE) -> int:
    try:
        size = int(value)
    except (TypeError, ValueError):
        return default
    return size if size in PAGE_SIZES else default


# --- cursors --------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_plain(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, queryset: QuerySet, keys: Sequence[str]) -> list[Any] | None:
    """The key values in `cursor`, converted by the model fields; None when it is not ours."""
    if not cursor or len(cursor) > 1000:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(values, list) or len(values) != len(keys):
        return None
    meta = queryset.model._meta
    converted = []
    for key, value in zip(keys, values, strict=True):
        if value is None or isinstance(value, list | dict):
            return None
        if isinstance(value, str) and text_problem(value):
            return None  # NUL or a lone surrogate: PostgreSQL could not compare it
        try:
            converted.append(meta.get_field(key).to_python(value))
        except (ValidationError, ValueError, TypeError):
            return None
    return converted


def _split(key: str, *, flip: bool) -> tuple[str, bool]:
    """('created_at', True) for '-created_at'; `flip` reverses the direction."""
    return key.removeprefix("-"), key.startswith("-") != flip


def _beyond(keys: Sequence[str], values: Sequence[Any], *, flip: bool) -> Q:
    """Rows strictly after `values` in the key ordering ('-key' = descending; `flip` reverses all).

    The leading `key0 >= v0` (or `<=`) is redundant logically but gives PostgreSQL an index
    bound, so the scan starts at the cursor instead of filtering from the first row.
    """
    parts = [_split(key, flip=flip) for key in keys]
    condition = Q()
    for index, (name, descending) in enumerate(parts):
        equal = {parts[j][0]: values[j] for j in range(index)}
        condition |= Q(**equal, **{f"{name}__{'lt' if descending else 'gt'}": values[index]})
    first, first_descending = parts[0]
    return Q(**{f"{first}__{'lte' if first_descending else 'gte'}": values[0]}) & condition


def keyset_page(
    queryset: QuerySet,
    *,
    keys: Sequence[str],
    descending: bool = False,
    after: str | None = None,
    before: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Page:
    """One page of `queryset` ordered by `keys` (unique together; the last is usually `id`).

    A key written '-name' sorts descending; `descending=True` reverses the whole ordering.
    Mixed directions let an ordering follow a mixed index such as (status, created_at DESC).
    """
    names = [key.removeprefix("-") for key in keys]
    ordering = [f"-{name}" if desc else name for name, desc in (_split(k, flip=descending) for k in keys)]
    reverse_ordering = [name if desc else f"-{name}" for name, desc in (_split(k, flip=descending) for k in keys)]
    after_values = decode_cursor(after, queryset=queryset, keys=names) if after else None
    before_values = decode_cursor(before, queryset=queryset, keys=names) if before else None

    if before_values is not None and after_values is None:
        rows = list(
            queryset.filter(_beyond(keys, before_values, flip=not descending)).order_by(*reverse_ordering)[
                : page_size + 1
            ]
        )
        has_previous = len(rows) > page_size
        items = list(reversed(rows[:page_size]))
        has_next = True
    else:
        if after_values is not None:
            queryset = queryset.filter(_beyond(keys, after_values, flip=descending))
        rows = list(queryset.order_by(*ordering)[: page_size + 1])
        has_next = len(rows) > page_size
        items = rows[:page_size]
        has_previous = after_values is not None

    def cursor_of(item: Any) -> str:
        return encode_cursor([getattr(item, name) for name in names])

    return Page(
        items=items,
        next_cursor=cursor_of(items[-1]) if has_next and items else None,
        previous_cursor=cursor_of(items[0]) if has_previous and items else None,
        has_next=has_next and bool(items),
        has_previous=has_previous and bool(items),
        page_size=page_size,
    )


def peek_page(queryset: QuerySet, *, page: Any, page_size: int = DEFAULT_PAGE_SIZE, max_page: int = 200) -> Page:
    """A numbered page by offset, capped at `max_page`; no COUNT, one query."""
    try:
        number = max(1, min(int(page), max_page))
    except (TypeError, ValueError):
        number = 1
    offset = (number - 1) * page_size
    rows = list(queryset[offset : offset + page_size + 1])
    return Page(
        items=rows[:page_size],
        number=number,
        has_next=len(rows) > page_size and number < max_page,
        has_previous=number > 1,
        page_size=page_size,
    )
