"""Multipart bodies (the grant-import files), read whole within a byte limit before any
part is parsed, so a chunked body without Content-Length cannot pass the limit either."""

from __future__ import annotations

import logging

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.types import Message

from shadowmap.server.deps import read_body
from shadowmap.server.errors import ImportInvalid

logger = logging.getLogger(__name__)


async def read_multipart(request: Request, limit: int, max_files: int) -> FormData:
    """The parsed form; PayloadTooLarge past ``limit``, ImportInvalid when not multipart."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ImportInvalid("post the export files as multipart/form-data parts named `file`")
    raw = await read_body(request, limit)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    try:
        return await Request(request.scope, replay).form(max_files=max_files)
    except HTTPException as exc:  # Starlette's answer to a MultiPartException
        raise ImportInvalid(f"the multipart body could not be read: {exc.detail}") from None
    except MultiPartException as exc:
        raise ImportInvalid(f"the multipart body could not be read: {exc.message}") from None


async def file_parts(form: FormData, name: str = "file") -> list[bytes]:
    """The contents of the parts called ``name`` that are files, in order."""
    parts = [part for part in form.getlist(name) if isinstance(part, UploadFile)]
    return [await part.read() for part in parts]
