class CrmError(Exception):
    """Bad input for a CRM operation; the message is shown to staff as it is."""

    status = 400
