"""No credential, account number or webhook URL survives the scrubber, and ordinary text does."""

from __future__ import annotations

from services.notifier.messages import messages
from services.notifier.scrub import Scrubber

# A made-up webhook, assembled so no committed line looks like a real one to secret scanners.
WEBHOOK = (
    "https://discord.com/api/webhooks/" + "1234567890123" + "/AbCdEfGhIjKlMnOpQrStUvWxYz-0123456789"
)
SECRETS = ["PSk3yAppKeyForTests0123", "s3cr3t-APP-SECRET-value", WEBHOOK, "87654321-02"]


def test_configured_secrets_and_shapes_are_redacted_everywhere() -> None:
    scrub = Scrubber(SECRETS)
    payload = {
        "content": "key PSk3yAppKeyForTests0123 secret s3cr3t-APP-SECRET-value",
        "embeds": [
            {
                "title": "account 12345678-01 and 1234567801 and acct8765432102",
                "fields": [
                    {"name": "url", "value": f"posting to {WEBHOOK}?wait=true"},
                    {"name": "token", "value": "AbCdEfGhIjKlMnOpQrStUvWxYz-0123456789"},
                    {"name": "other", "value": "see discordapp.com/api/v10/webhooks/1/abc)"},
                ],
            }
        ],
    }
    clean = scrub.payload(payload)
    text = repr(clean)
    for leaked in [*SECRETS, "12345678", "1234567801", "8765432102", "AbCdEf", "webhooks/1/"]:
        assert leaked not in text
    assert clean["embeds"][0]["fields"][0]["name"] == "url"
    assert clean["embeds"][0]["fields"][2]["value"] == "see ***)"


def test_ordinary_numbers_stay() -> None:
    scrub = Scrubber(SECRETS)
    kept = "20260302-005930-buy-entry 1,234,567,890원 123456789012 005930 2026-03-02 0000117057x"
    assert scrub.text(kept) == kept.replace("0000117057", "***")
    assert scrub.text("short abc") == "short abc"


def test_messages_scrub_before_splitting() -> None:
    # A secret right at a split point would be cut in two and slip past a later scrub.
    secret = "s3cr3t-APP-SECRET-value"
    message = "x" * 4090 + secret + "y" * 10
    event = {"event": "picks_error", "session": "2026-03-02", "message": message}
    sent = messages(event, "ko", Scrubber(SECRETS))
    joined = "".join(e.get("description", "") for p in sent for e in p["embeds"])
    assert secret not in joined and "s3cr3t" not in joined and "***" in joined
