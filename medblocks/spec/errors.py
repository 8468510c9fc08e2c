"""The one error the spec package raises."""


class SpecError(ValueError):
    """A document that is not a usable OpenAPI description (unreadable, malformed, or refused
    because comparing it would cost more than the fixed bounds allow)."""
