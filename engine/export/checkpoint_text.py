"""The deployment's latest signed audit checkpoint, as lines for an audit PDF's verification
section: a reader can later check that the store still holds the chain it had then."""

from __future__ import annotations

from engine.errors import DTPAError
from engine.store import checkpoints


def checkpoint_lines() -> list[str]:
    """What to print about the latest checkpoint (engine/store/checkpoints.py)."""
    try:
        cp = checkpoints.latest_signed()
    except DTPAError as exc:
        return [f"Audit checkpoint: could not be read ({exc.message})"]
    if cp is None:
        return ["Audit checkpoint: none signed yet by this deployment."]
    return [
        f"Latest signed audit checkpoint: {cp.events} events, signed {cp.at}",
        f"Checkpoint chain head: {cp.head}",
        f"Checkpoint signing key: {cp.signing_key}",
        f"Checkpoint signature fingerprint: {cp.signature_fingerprint}",
        "(dtpa audit check-checkpoint FILE --public-key PEM checks a checkpoint file; "
        "dtpa audit verify compares the store with it)",
    ]
