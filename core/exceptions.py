class ActionRefused(Exception):
    """The action is not allowed in the object's current state; the message says why, in
    words the coach or client can read."""
