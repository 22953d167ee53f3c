"""What the agency chat shows about leads besides their cards: /leads lists and their lines.

Used by the agency handlers and by the outbox worker, which renders a list anew when a lead in
it is erased (the list then shows that lead as erased, with no personal data).
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.cards import cut, lead_tag, local_time, quote
from bot.plural import plural_ru
from bot.settings import Settings
from bot.texts import agency as t
from bot.texts import cards as card_texts
from storage.leads import Lead

NAME_CHARS = 40


def lead_name(lead: Lead) -> str:
    """The name the prospect gave in the brief, else their Telegram name (plain text, '' if none)."""
    return str(lead.fields.get("name") or lead.fields.get("tg_name") or "")


def status_label(lead: Lead) -> str:
    return card_texts.STATUS_LABELS.get(lead.work.status if lead.work else "new", "")


def age(created_at: str, now: datetime | None = None) -> str:
    """'только что', '5 минут назад', '3 часа назад', '2 дня назад'."""
    try:
        created = datetime.fromisoformat(created_at)
    except (TypeError, ValueError):
        return ""
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    seconds = max(0, int(((now or datetime.now(UTC)) - created).total_seconds()))
    for size, forms in ((86400, t.AGE_DAYS), (3600, t.AGE_HOURS), (60, t.AGE_MINUTES)):
        if seconds >= size:
            n = seconds // size
            return t.AGE_AGO.format(n=n, unit=plural_ru(n, *forms))
    return t.AGE_NOW


def lead_line(lead: Lead, now: datetime | None = None) -> str:
    """One lead in a list: number, name (or "erased"), status, age. HTML, escaped."""
    if lead.status != "active":
        name = t.LEADS_ERASED_NAME
    else:
        name = quote(cut(lead_name(lead), NAME_CHARS)) or t.LEADS_NO_NAME
    return t.LEADS_LINE.format(tag=lead_tag(lead.id), name=name, status=status_label(lead),
                               age=age(lead.created_at, now))


def render_leads_list(leads: list[Lead], settings: Settings, title: str | None = None, footer: str = "") -> str:
    """A /leads list (at most a few dozen lines: far below Telegram's 4,096 characters)."""
    now = datetime.now(UTC)
    lines = [title or t.LEADS_TITLE_UPDATED, ""]
    lines += [lead_line(lead, now) for lead in leads] or [t.LEADS_EMPTY]
    if footer:
        lines += ["", footer]
    return "\n".join(lines)


def render_erased_lead(lead: Lead, settings: Settings) -> str:
    """/lead N of an erased lead: its number, when its data went and its work status."""
    when = local_time(lead.erased_at, settings.timezone) if lead.erased_at else "—"
    return t.LEAD_ERASED_TITLE.format(tag=lead_tag(lead.id), when=when, status=status_label(lead))
