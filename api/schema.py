"""What the OpenAPI schema says beyond the views: the key scheme, the error shape, headers."""

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension

from .errors import PROBLEM_TYPES
from .idempotency import HEADER as IDEMPOTENCY_HEADER


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Authorization: Api-Key <prefix>.<secret>`, shown once in the admin.",
        }


class StaffSessionScheme(SessionScheme):
    target_class = "api.authentication.StaffSessionAuthentication"


PROBLEM = {
    "type": "object",
    "description": "Every error: a stable `type` to act on, text in the request's language.",
    "properties": {
        "type": {"type": "string", "enum": PROBLEM_TYPES},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "For bad input: the messages about each field.",
            "additionalProperties": True,
        },
    },
    "required": ["type", "title", "status", "detail"],
}

_DESCRIPTIONS = {
    "400": "Bad input",
    "401": "No valid credentials",
    "403": "Not allowed for this role, scope or area",
    "404": "Not found, or outside the caller's areas",
    "405": "Method not allowed",
    "406": "Format not available",
    "409": "Conflict: no place left in a quota or pledge, or the same Idempotency-Key in progress",
    "412": "If-Match does not match the record any more",
    "415": "Body not in JSON",
    "422": "Idempotency-Key already used for another request",
    "428": "If-Match missing",
    "429": "Too many requests (see Retry-After)",
    "503": "The database cannot be reached for a moment (see Retry-After)",
}
_ALL = ["400", "401", "403", "404", "405", "406", "429", "503"]
_BY_METHOD = {
    "get": [],
    "post": ["409", "415", "422"],
    "put": ["409", "412", "415", "428"],
    "patch": ["409", "412", "415", "428"],
}


def add_errors_and_headers(result, generator, request, public):
    """Add the error responses, Idempotency-Key and If-Match to every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _BY_METHOD:
                continue
            responses = operation.setdefault("responses", {})
            for code in _ALL + _BY_METHOD[method]:
                responses.setdefault(
                    code, {"description": _DESCRIPTIONS[code], "content": reference}
                )
            parameters = operation.setdefault("parameters", [])
            if method == "post":
                parameters.append(
                    {
                        "in": "header",
                        "name": IDEMPOTENCY_HEADER,
                        "required": False,
                        "schema": {"type": "string", "maxLength": 255},
                        "description": "Retry-safe POST: the same key and body replay the "
                        "first response; another body with the key gives 422.",
                    }
                )
            if method in ("put", "patch"):
                parameters.append(
                    {
                        "in": "header",
                        "name": "If-Match",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "The ETag of the record as read.",
                    }
                )
            # The items' actions take an optional If-Match (declared in their views): 412 too.
            if any(p["in"] == "header" and p["name"] == "If-Match" for p in parameters):
                responses.setdefault(
                    "412", {"description": _DESCRIPTIONS["412"], "content": reference}
                )
    return result
