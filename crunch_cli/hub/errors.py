"""The hub's one error type and the handlers giving every failure the wire shape
`{"code": "UPPER_SNAKE", "message": "...", ...extras}` (HUB_API.md), unknown routes and
crashes included, so a client never has to parse an HTML page or a bare string.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class HubApiError(Exception):
    """Raised by route code; `extras` become extra top-level fields of the body."""

    def __init__(self, status: int, code: str, message: str, /, **extras: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extras = extras


def error_response(status: int, code: str, message: str, /, **extras: Any) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, **extras}, status_code=status)


def not_found(code: str, message: str, /, **extras: Any) -> HubApiError:
    return HubApiError(404, code, message, **extras)


async def _hub_api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HubApiError)
    return error_response(error.status, error.code, error.message, **error.extras)


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    field_errors = [
        {"field": ".".join(str(part) for part in item["loc"]), "message": item["msg"]}
        for item in error.errors()
    ]
    summary = "; ".join(f"{item['field']}: {item['message']}" for item in field_errors)
    return error_response(
        400, "VALIDATION_FAILED", f"invalid request ({summary})", fieldErrors=field_errors
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 404:
        return error_response(
            404, "ROUTE_NOT_FOUND", f"no such endpoint: {request.method} {request.url.path}"
        )
    if error.status_code == 405:
        return error_response(
            405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed on {request.url.path}"
        )
    return error_response(error.status_code, "HTTP_ERROR", str(error.detail))


async def _internal_error(_request: Request, _error: Exception) -> JSONResponse:
    # Starlette re-raises after this handler, so the server still logs the traceback.
    return error_response(500, "INTERNAL_SERVER", "the hub failed to handle this request")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HubApiError, _hub_api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _internal_error)
