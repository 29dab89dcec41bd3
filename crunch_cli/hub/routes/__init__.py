"""One router per resource of the wire contract (HUB_API.md)."""
