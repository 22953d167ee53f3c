"""Texts for the agency chat (seen by the agency owner, not by prospects)."""

STATS_TITLE = "<b>Статистика бота</b>"
STATS_SOURCES = "<b>Переходы /start по источникам:</b>"
STATS_FAQ = "<b>Популярные вопросы FAQ:</b>"
STATS_UNANSWERED = "<b>Вопросы без ответа в FAQ</b> (добавьте их в корпус):"
STATS_EMPTY = "пока нет данных"
HELP = (
    "Я присылаю сюда заявки из брифа и вопросы клиентов.\n"
    "/stats — источники переходов, популярные и неотвеченные вопросы."
)
