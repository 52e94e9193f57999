"""Domain errors raised by services and turned into form errors or 4xx by views."""


class RuleError(Exception):
    """A business rule refused the action; ``message`` is French and shown to the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
