"""Demo data for the CRM: tags, notes, tasks and a likely duplicate pair (idempotent)."""


def seed(*, stdout) -> None:
    pass
