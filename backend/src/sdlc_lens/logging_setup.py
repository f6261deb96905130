"""One stdout handler on the root logger, installed once, at the configured level."""

import logging
import sys

_HANDLER_NAME = "sdlc-lens-stdout"


def configure_logging(level: str) -> None:
    """Send application logs to stdout at `level`; calling it again only changes the level."""
    root = logging.getLogger()
    if not any(handler.get_name() == _HANDLER_NAME for handler in root.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s [%(name)s] %(message)s", "%Y-%m-%dT%H:%M:%S"
            )
        )
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("sdlc_lens").setLevel(level)
