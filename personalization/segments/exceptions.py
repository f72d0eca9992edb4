class SegmentError(Exception):
    """A segment that cannot be saved or used; the message names the rule and is safe to show."""
