"""Delivering a digest: a signed webhook POST (retried) and an e-mail over SMTP."""

import hashlib
import hmac
import smtplib
import ssl
import time
from email.message import EmailMessage

import httpx

from app.config import Settings

SIGNATURE_HEADER = "X-Givefirst-Signature"
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class DeliveryError(RuntimeError):
    """A digest could not be delivered (the list itself is stored)."""


def sign(body: bytes, secret: str) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_webhook(
    url: str,
    body: bytes,
    *,
    secret: str,
    delivery_id: str,
    attempts: int = 4,
    backoff_seconds: float = 0.5,
    timeout_seconds: float = 10.0,
) -> int:
    """POST ``body`` (JSON) to ``url``, signed; retry network errors and 5xx/429 with exponential
    backoff. Returns the attempts it took; raises ``DeliveryError`` when it gives up."""
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(body, secret),
        "X-Givefirst-Delivery": delivery_id,  # the same on every retry: receivers can dedupe
        "User-Agent": "givefirst-nightly",
    }
    problem = ""
    with httpx.Client(timeout=timeout_seconds) as client:
        for attempt in range(1, attempts + 1):
            try:
                response = client.post(url, content=body, headers=headers)
            except httpx.HTTPError as error:
                problem = f"{type(error).__name__}: {error}"
            else:
                if response.is_success:
                    return attempt
                problem = f"HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES:
                    break
            if attempt < attempts:
                time.sleep(backoff_seconds * 2 ** (attempt - 1))
    raise DeliveryError(f"webhook {url} failed after {attempt} attempt(s): {problem}")


def check_email_settings(settings: Settings) -> None:
    missing = [
        name
        for name, value in (
            ("GIVEFIRST_SMTP_HOST", settings.smtp_host),
            ("GIVEFIRST_SMTP_FROM", settings.smtp_from),
            ("GIVEFIRST_SMTP_TO", settings.smtp_to),
        )
        if not value
    ]
    if missing:
        raise DeliveryError(f"--email needs {', '.join(missing)} to be set")


def send_email(settings: Settings, message: EmailMessage) -> None:
    """Send ``message`` (the digest) from GIVEFIRST_SMTP_FROM to GIVEFIRST_SMTP_TO."""
    check_email_settings(settings)
    assert settings.smtp_host is not None and settings.smtp_from is not None
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(settings.smtp_to)
    try:
        if settings.smtp_tls == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
        with smtp:
            if settings.smtp_tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(
            f"e-mail via {settings.smtp_host}:{settings.smtp_port} failed: {error}"
        ) from error
