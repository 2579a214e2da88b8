"""Where a command-line client keeps its sign-in: DTPA_TOKEN when set (scripts), otherwise the
token `dtpa login` saved in $DTPA_CONFIG_DIR/token, a file only its owner may read."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from engine.errors import NotSignedIn
from engine.settings import settings

ENV = "DTPA_TOKEN"


def token_file() -> Path:
    return Path(settings().config_dir) / "token"


def file_token() -> str | None:
    """The token `dtpa login` saved, or None."""
    path = token_file()
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8").strip() or None


def saved_token() -> tuple[str, str] | None:
    """(token, where it came from), or None when there is no sign-in at all."""
    env = settings().token
    if env is not None and env.get_secret_value().strip():
        return env.get_secret_value().strip(), ENV
    path = token_file()
    if path.is_file() and os.name == "posix" and path.stat().st_mode & 0o077:
        # As ssh does with a private key: a token others can read may already be someone else's.
        raise NotSignedIn(f"{path} can be read by other users; delete it and sign in again")
    token = file_token()
    return (token, str(path)) if token else None


def save_token(token: str) -> Path:
    """Write the token readable by its owner only (mode 0600, in a folder of mode 0700). The
    file is created with that mode and moved into place, so it is never readable by others."""
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".token-")  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token + "\n")
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def forget_token() -> Path | None:
    """Delete the saved token; the file's path, or None when there was none."""
    path = token_file()
    if not path.exists():
        return None
    path.unlink()
    return path
