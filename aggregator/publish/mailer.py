"""Delivering finished email messages: SMTP or `.eml` files in a directory.

A transport gets the exact bytes the send ledger stored and either returns (the message was accepted),
raises :class:`DeliveryError` (it was not: nothing can be assumed delivered), or raises
:class:`DeliveryUnknownError` (the whole message went to the server, which then gave no answer: it may
have been delivered). Nothing here decides what to send.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import smtplib
import ssl
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from ..errors import NewsletterError

log = logging.getLogger(__name__)

Security = Literal["starttls", "tls", "none"]


class DeliveryError(NewsletterError):
    """The transport did not accept the message; the send is to be retried."""


class DeliveryUnknownError(DeliveryError):
    """The message was sent in full but the server's answer never came (timeout, dropped connection):
    it may or may not have been delivered."""


class Transport(Protocol):
    def deliver(self, message: bytes, *, sender: str, recipients: Sequence[str], name: str) -> str:
        """Deliver ``message``; ``name`` is a stable file-safe name for it. Returns where it went."""
        ...


@dataclass(frozen=True)
class SmtpTransport:
    """SMTP with STARTTLS, implicit TLS or no encryption, and an optional login.

    ``ssl_context`` defaults to the system's verifying context; tests pass one trusting their own CA.
    """

    host: str
    port: int
    security: Security = "starttls"
    username: str = ""
    password: str = ""
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = None

    def deliver(self, message: bytes, *, sender: str, recipients: Sequence[str], name: str) -> str:
        where = f"smtp://{self.host}:{self.port}"
        context = self.ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP | None = None
        try:
            if self.security == "tls":
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            smtp.ehlo()
            if self.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password)
            refused = _send(smtp, message, sender, recipients)
        except _NoAnswer as e:
            cause = e.__cause__
            raise DeliveryUnknownError(
                f"{where} took the message but gave no answer ({type(cause).__name__}: {cause}): "
                "it may have been delivered"
            ) from cause
        except smtplib.SMTPRecipientsRefused as e:
            raise DeliveryError(f"{where} refused every recipient: {_refusals(e.recipients)}") from e
        except smtplib.SMTPAuthenticationError as e:
            raise DeliveryError(
                f"{where} refused the login for {self.username!r} ({e.smtp_code} {_text(e.smtp_error)}): "
                "check newsletter.smtp_username and the password environment variable"
            ) from e
        except smtplib.SMTPNotSupportedError as e:
            raise DeliveryError(f"{where}: {e} (check newsletter.smtp_security)") from e
        except smtplib.SMTPResponseException as e:
            raise DeliveryError(f"{where} refused the message: {e.smtp_code} {_text(e.smtp_error)}") from e
        except (smtplib.SMTPException, OSError) as e:  # connection refused, TLS failure, timeout, ...
            raise DeliveryError(f"{where}: {type(e).__name__}: {e}") from e
        finally:
            if smtp is not None:
                _close(smtp)
        # The server has taken responsibility for the message: from here on it counts as sent.
        if refused:
            # Accepted for the others: a retry would send them a second copy, so this counts as sent.
            log.warning("%s refused some recipients: %s", where, _refusals(refused))
        accepted = len(recipients) - len(refused)
        return f"{where} ({accepted} recipient{'s' if accepted != 1 else ''})"


class _NoAnswer(Exception):
    """Internal: the final dot went out, the server's reply did not come back (``__cause__`` says why)."""


def _send(
    smtp: smtplib.SMTP, message: bytes, sender: str, recipients: Sequence[str]
) -> dict[str, tuple[int, bytes]]:
    """What :meth:`smtplib.SMTP.sendmail` does, with the DATA reply read apart from the rest, so that a
    connection lost after the whole message went out is told from one lost before (nothing delivered)."""
    smtp.ehlo_or_helo_if_needed()
    code, reply = smtp.mail(sender)
    if code != 250:
        _reset(smtp)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused: dict[str, tuple[int, bytes]] = {}
    for rcpt in recipients:
        code, reply = smtp.rcpt(rcpt)
        if code not in (250, 251):
            refused[rcpt] = (code, reply)
    if len(refused) == len(recipients):
        _reset(smtp)
        raise smtplib.SMTPRecipientsRefused(refused)
    code, reply = smtp.docmd("data")
    if code != 354:
        _reset(smtp)
        raise smtplib.SMTPDataError(code, reply)
    payload = re.sub(rb"(?m)^\.", b"..", message)  # dot-stuffing, as smtplib does
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    smtp.send(payload + b".\r\n")
    try:
        code, reply = smtp.getreply()
    except (smtplib.SMTPServerDisconnected, OSError) as e:
        raise _NoAnswer() from e
    if code != 250:
        _reset(smtp)
        raise smtplib.SMTPDataError(code, reply)
    return refused


def _reset(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        smtp.rset()


def _close(smtp: smtplib.SMTP) -> None:
    """QUIT politely; a failure here comes after the server's answer to DATA and changes nothing."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


@dataclass(frozen=True)
class DirTransport:
    """Writes ``<name>.eml`` into a directory, atomically: a reader never sees half a file.

    The name is stable per digest, so a retry replaces the file instead of adding a second one.
    """

    directory: Path

    def deliver(self, message: bytes, *, sender: str, recipients: Sequence[str], name: str) -> str:
        target = self.directory / f"{name}.eml"
        try:
            write_atomically(target, message)
        except OSError as e:
            raise DeliveryError(f"cannot write {target}: {e}") from e
        return str(target)


def write_atomically(target: Path, data: bytes) -> None:
    """Temp file in the same directory, fsync, os.replace: the file is either old or new, never partial."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(target.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "message"


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in refused.items())
