"""``pioreactor.actions``: upstream's action modules plugins import."""
