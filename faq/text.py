"""Text normalisation for FAQ search: Russian-aware, typo/translit/English tolerant.

Pipeline (same for corpus texts and user queries):

1. ``fold``: Unicode NFKC, lower case, ё→е, dashes/quotes unified;
2. mixed-script words are repaired (Latin look-alikes inside Cyrillic words,
   e.g. "cмм" typed with a Latin "c");
3. phrase rules: SMM spellings (смм, эсэмэм, сммщик, social media marketing …)
   become the canonical token ``smm``;
4. tokenisation, stop-word removal, Snowball Russian stemming, a small stem
   synonym map (соцсеть → социальн сет, стоит/стоимость/прайс → цен …);
5. Latin words: brand/abbreviation map (smm, seo, vk …), a small
   English→Russian dictionary for the FAQ topics, otherwise transliteration
   to Cyrillic ("skolko zhdat" → "сколко ждат") with the English stem as a
   fallback candidate.

Everything hot is cached with :func:`functools.lru_cache`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import snowballstemmer
import yaml

__all__ = [
    "fold",
    "analyze",
    "Slot",
    "stem_ru",
    "skeleton",
    "translit_to_cyrillic",
    "translit_variants",
    "surface_text",
    "phrase_key",
    "LOW_INFO_STEMS",
]

SYNONYMS_PATH = Path(__file__).resolve().parent / "synonyms.yaml"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RU_STEMMER = snowballstemmer.stemmer("russian")
_EN_STEMMER = snowballstemmer.stemmer("english")

# ---------------------------------------------------------------- lexicon

RU_STOPWORDS = frozenset("""
а без более бы был была были было быть в вам вас весь во вот все всего всегда всех всю вы
где да даже для до его ее ей ему если есть еще ж же за здесь и из или им их к как какая
какие каким какими каких какое какой каком какую кем ко когда-то кто кого ли либо между меня
мне можно мой моя мое мои мою мы на над надо нам нас наш наша наше наши не него нее нет ни
них но ну о об обо он она они оно от перед по под при про с со сам сама само сами себе себя
так такая такие такое такой там те тебе тебя тем то того тоже той только том ты у уже хоть
чего чем что чтоб чтобы чье чья эта эти это этого этой этом этот эту я
че чё чо шо што чтото чтонибудь нибудь либо кое
ваш ваша ваше ваши вашего вашей вашем вашим вашими ваших вашу
мой моего моей моем моим моими моих
нам наш нашего нашей нашем нашим нашими наших нашу
вообще блин типа короче просто ведь вроде же мол именно вот-вот ага ок окей ой эх ах ну-ка
пожалуйста пжл пж плиз плз спасибо спс благодарю
подскажите подскажи скажите скажи расскажите расскажи объясните объясни поясните поясни
хочу хотел хотела хотели хотелось бы узнать интересно интересует вопрос вопросик
здравствуйте здравствуй привет приветик добрый доброе доброго день дня утро вечер вечера
слушайте слушай извините простите уважаемые уважаемый коллеги ребята друзья
можете можешь могу могли можно ли нужно надо
отчего кто куда откуда дела делишки бот бота боту ботом боте бот-а как каков какова
через будет будут буду будем был была были было после
все всё весь вся очень тут там вон
это такой это-то такие вы-то
большое огромное большущее спасибки сенкс мерси благодарен благодарна пасиб
простыми простым простой словами языком двух словах по-простому попросту кратко коротко вкратце
плиз плс плиииз пжлст пожалуйсто пожалста позязя
щас сейчас вообщем вобщем собственно кстати допустим например
правда реально вправду серьезно честно
скиньте скинь киньте кинь покажите покажи дайте дай напомните пришлите вышлите отправьте отправь
можешь может могут могли мочь
вопросы вопросом уточнить уточните узнать
ладно норм нормально хорошо понятно ясно
ту тот та тех тому теми этим этими данный данная
""".split())

# Weak "intent" words: pronouns and question words that are dropped by most search
# engines but tell entries apart ("где хранятся мои данные" vs "какие данные вы
# храните", "кто вы").  They are indexed as low-weight pseudo terms ("~вы" ...).
WEAK_WORDS: dict[str, str] = {}
for _cls, _words in {
    "~вы": "вы вас вам вами ваш ваша ваше ваши вашего вашей вашем вашим вашими ваших вашу",
    "~я": "я меня мне мной мой моя мое мои мою моего моей моем моим моими моих",
    "~кто": "кто",
    "~где": "где куда",
    "~хочу": "хочу хотим хотел хотела хотели хотелось",
}.items():
    for _w in _words.split():
        WEAK_WORDS[_w] = _cls
# The agency's own name: the brand term plus the weak "you" term ("отзывы о kosmmos" ~ "отзывы о вас").
AGENCY_NAMES = frozenset("kosmmos kosmos kosmoss космос космоса космосе космосом космосу kosmmos.ru".split())
EN_WEAK_WORDS: dict[str, str] = {
    "you": "~вы", "your": "~вы", "yours": "~вы", "me": "~я", "my": "~я", "mine": "~я",
    "who": "~кто", "where": "~где", "want": "~хочу",
}

EN_STOPWORDS = frozenset("""
a an the is are was were be been am do does did doing done i me my mine you your yours we our
us it its this that these those of to in on at for from by with about into as and or but if
then than so how what whats which who whom whose why where when can could would should will
shall may might must please tell hi hello hey ok okay thanks thank s t d ll re ve m there here
any some just also very really get got guys guy folks dear sir madam kindly exactly actually
basically generally anyway someone somebody anyone anybody one ones thing things stuff like
even bother see all sorry dumb stupid silly question questions
next step steps way ways first day daily everyday usually typically normally right now
""".split())

# Latin words that are not translated / transliterated (brands, abbreviations).
LATIN_MAP: dict[str, str] = {
    "smm": "smm", "smmm": "smm", "smmщик": "smm менеджер",
    "seo": "seo", "kpi": "kpi", "kpis": "kpi", "roi": "roi", "crm": "crm", "ads": "реклама",
    "vk": "вконтакте", "vkontakte": "вконтакте", "ok": "", "tg": "телеграм",
    "instagram": "инстаграм", "insta": "инстаграм", "inst": "инстаграм",
    "facebook": "фейсбук", "fb": "фейсбук", "telegram": "телеграм",
    "google": "гугл", "yandex": "яндекс", "direct": "директ",
    "email": "почта", "mail": "почта", "e": "",
    "id": "id", "username": "username", "brief": "бриф",
    "ctr": "показатели", "cpc": "показатели", "cpm": "показатели", "cpa": "показатели",
    "cpl": "показатели", "er": "показатели", "smmщица": "smm менеджер",
}

# Small English→Russian dictionary for the FAQ topics (English stems → Russian text).
EN_MAP: dict[str, str] = {
    "social": "социальные", "media": "сети", "network": "сети", "networks": "сети",
    "marketing": "маркетинг", "market": "маркетинг", "manag": "менеджер", "manager": "менеджер",
    "specialist": "специалист", "expert": "специалист",
    "mean": "значит", "meaning": "значит", "definit": "определение", "stand": "расшифровка",
    "duti": "обязанности", "duty": "обязанности", "respons": "обязанности", "job": "работа",
    "work": "работает", "goal": "цели", "task": "задачи", "purpos": "цели", "aim": "цели",
    "benefit": "польза", "need": "нужен", "use": "пользуются", "user": "пользователи",
    "peopl": "люди", "mani": "сколько", "much": "сколько",
    "result": "результат", "long": "долго", "soon": "скоро", "fast": "быстро", "quick": "быстро",
    "quickli": "быстро", "until": "", "take": "",
    "measur": "измерить", "effect": "эффективность", "effici": "эффективность",
    "metric": "метрики", "analyt": "аналитика", "track": "отслеживать",
    "traffic": "трафик", "site": "сайт", "websit": "сайт", "visitor": "посетители",
    "discount": "скидки", "sale": "распродажа", "promot": "продвижение", "promo": "акции",
    "search": "поиск", "engin": "поисковик", "ad": "реклама", "advertis": "реклама",
    "advert": "реклама", "target": "таргет", "differ": "разница", "vs": "разница",
    "brand": "бренд", "awar": "узнаваемость", "awareness": "узнаваемость", "reach": "охват",
    "increas": "увеличить", "reput": "репутация", "imag": "имидж", "valu": "ценности",
    "chariti": "благотворительность", "review": "отзывы", "feedback": "отзывы",
    "negat": "негативные", "neg": "негативные", "bad": "плохие", "complaint": "жалоба",
    "handl": "работать", "deal": "работать", "mention": "упоминания", "monitor": "мониторинг",
    "cross": "кросс", "collabor": "коллаборация", "partner": "партнеры",
    "competitor": "конкуренты", "competit": "конкуренты", "hire": "найм", "hiring": "найм",
    "recruit": "найм", "staff": "персонал", "employe": "сотрудники", "personnel": "персонал",
    "data": "данные", "person": "персональные", "inform": "информация", "collect": "собираете",
    "store": "храните", "keep": "храните", "consent": "согласие", "withdraw": "отозвать",
    "revok": "отозвать", "delet": "удалить", "remov": "удалить", "eras": "удалить",
    "updat": "обновить", "chang": "изменить", "correct": "исправить", "fix": "исправить",
    "edit": "изменить", "unsubscrib": "отписаться", "newslett": "рассылка",
    "notif": "уведомления", "spam": "рассылка", "share": "передаете", "sell": "продаете",
    "third": "третьим", "parti": "лицам", "safe": "безопасность", "secur": "безопасность",
    "privaci": "конфиденциальность", "polici": "политика",
    "price": "цена", "cost": "стоимость", "pricing": "цена", "rate": "расценки",
    "budget": "бюджет", "expens": "стоимость", "cheap": "цена", "fee": "цена",
    "order": "заказать", "bring": "приносить", "brings": "приносить", "buy": "заказать", "offer": "предложение", "proposal": "предложение",
    "start": "начать", "contact": "контакты", "phone": "телефон", "call": "связаться",
    "human": "человек", "client": "клиенты", "custom": "клиенты", "case": "кейсы",
    "portfolio": "портфолио", "compani": "компания", "agenc": "агентство", "team": "агентство",
    # marketing vocabulary (general, not tied to particular questions)
    "perform": "эффективность", "performance": "эффективность", "kpis": "kpi",
    "engag": "активность", "engagement": "активность", "interact": "активность",
    "follow": "подписчики", "follower": "подписчики", "followers": "подписчики",
    "subscrib": "подписчики", "subscriber": "подписчики", "audienc": "аудитория",
    "lead": "заявки", "leads": "заявки", "inquiri": "заявки", "request": "заявка",
    "campaign": "реклама", "commerci": "реклама", "banner": "реклама",
    "convers": "конверсия", "conversion": "конверсия", "convert": "конверсия",
    "sales": "продажи", "revenu": "выручка", "profit": "прибыль", "income": "доход",
    "return": "окупаемость", "invest": "вложения", "investment": "вложения",
    "payback": "окупаемость", "spend": "расходы", "spent": "расходы",
    "content": "контент", "post": "посты", "posts": "посты", "stori": "посты",
    "reel": "посты", "strategi": "стратегия", "plan": "план", "report": "отчет",
    "statist": "статистика", "stats": "статистика", "likes": "лайки",
    "repost": "репосты", "comment": "комментарии", "contest": "конкурс",
    "giveaway": "розыгрыш", "growth": "рост", "grow": "рост", "outcom": "результат",
    "visibl": "узнаваемость", "recognit": "узнаваемость", "popular": "популярность",
    "hate": "негатив", "troll": "негатив", "launch": "запуск", "product": "продукт",
    "novelti": "новинки", "week": "неделя", "month": "месяц", "contract": "договор",
    "pay": "оплата", "payment": "оплата", "freelanc": "фрилансер", "tariff": "тариф",
    "packag": "тариф", "servic": "услуги", "worth": "смысл", "sens": "смысл",
    "busi": "бизнес", "business": "бизнес", "help": "помочь", "shop": "бизнес",
    "account": "аккаунт", "enough": "много", "info": "информация", "angri": "негатив", "rude": "негатив",
    "toxic": "негатив", "argu": "спорить", "wrong": "неправильно", "typo": "опечатка",
}

# Stem-level synonyms: Snowball stem → replacement stems.
STEM_SYNONYMS: dict[str, tuple[str, ...]] = {
    "соцсет": ("социальн", "сет"), "социалк": ("социальн", "сет"), "соцсеточк": ("социальн", "сет"),
    "сто": ("цен",), "стоимост": ("цен",), "прайс": ("цен",), "расценк": ("цен",),
    "прайс-лист": ("цен",), "ценник": ("цен",),
    "таргетирова": ("таргет",), "таргетинг": ("таргет",), "таргетн": ("таргет",),
    "кроссмаркетинг": ("кросс", "маркетинг"), "кросс-маркетинг": ("кросс", "маркетинг"),
    "инст": ("инстаграм",), "инстаграмм": ("инстаграм",), "инстагр": ("инстаграм",),
    "вк": ("вконтакт",), "контакт": ("контакт",),
    "имейл": ("почт",), "емейл": ("почт",), "мейл": ("почт",), "e-mail": ("почт",),
    "электрон": ("почт",), "имэйл": ("почт",),
    "кп": ("коммерческ", "предложен"), "ца": ("целев", "аудитор"),
    "пд": ("персональн", "дан"), "персданн": ("персональн", "дан"),
    "специалист": ("менеджер",), "спец": ("менеджер",), "сммщик": ("smm", "менеджер"),
    "телег": ("телеграм",), "тг": ("телеграм",), "гугл": ("гугл",),
    "негат": ("негатив",), "негативн": ("негатив",),
    "показыва": ("показа",), "контекстн": ("контекст",), "поисковик": ("поиск",),
    "поисков": ("поиск",), "отзов": ("отозва",), "отозв": ("отозва",),
    # verbal nouns / imperfective stems → one stem
    "повышен": ("повыс",), "повыша": ("повыс",), "увеличен": ("увелич",), "увеличива": ("увелич",),
    "улучшен": ("улучш",), "улучша": ("улучш",), "привлечен": ("привлеч",), "привлека": ("привлеч",),
    "оценк": ("оцен",), "оценива": ("оцен",), "измерен": ("измер",), "измеря": ("измер",),
    "удален": ("удал",), "удаля": ("удал",), "изменен": ("измен",), "изменя": ("измен",),
    "исправлен": ("исправ",), "исправля": ("исправ",), "обновлен": ("обнов",), "обновля": ("обнов",),
    "отслежива": ("отслед",), "отследит": ("отслед",), "анализирова": ("анализ",),
    "продвига": ("продвиж",), "продвижен": ("продвиж",), "продвинут": ("продвиж",),
    "раскрутк": ("раскрут",), "раскручива": ("раскрут",), "раскрут": ("раскрут",),
    # colloquial / derivational variants
    "даст": ("дает",), "дают": ("дает",), "дадут": ("дает",), "дава": ("дает",),
    "полез": ("польз",), "полезн": ("польз",), "народ": ("люд",), "человек": ("люд",),
    "коллаб": ("коллаборац",), "коллабораш": ("коллаборац",), "колаборац": ("коллаборац",),
    "комент": ("коммент",), "коментар": ("комментар",), "комментарий": ("комментар",),
    "утекут": ("утечк",), "утечет": ("утечк",), "утек": ("утечк",), "слив": ("утечк",),
    "сольют": ("утечк",), "слива": ("утечк",),
    "пообща": ("поговор",), "побеседова": ("поговор",), "пообщат": ("поговор",),
    "прорекламирова": ("реклам",), "рекламирова": ("реклам",), "разрекламирова": ("реклам",),
    "пиар": ("продвиж",), "пиар-": ("продвиж",), "пиарит": ("продвиж",), "пропиарит": ("продвиж",),
    "телегр": ("телеграм",), "телеграмм": ("телеграм",), "телеграмчик": ("телеграм",), "телеграмк": ("телеграм",),
    "денег": ("деньг",), "бабк": ("деньг",), "бабл": ("деньг",), "тариф": ("цен",),
    "закаж": ("заказа",), "заказыва": ("заказа",), "заказ": ("заказа",),
    "подсматрива": ("подсмотрет",), "подглядыва": ("подсмотрет",), "подглядет": ("подсмотрет",),
    "шпион": ("след",), "шпионит": ("след",), "следя": ("след",), "слежк": ("след",),
    "мониторит": ("мониторинг",), "монитор": ("мониторинг",), "мониторя": ("мониторинг",), "мониторин": ("мониторинг",),
    "контор": ("компан",), "фирм": ("компан",), "организац": ("компан",),
    "магазин": ("бизнес",), "бизнесмен": ("бизнес",), "предпринимател": ("бизнес",),
    "тв": ("телевизор",), "телек": ("телевизор",), "телевиден": ("телевизор",),
    "подписот": ("подписчик",), "фолловер": ("подписчик",), "фоловер": ("подписчик",),
    "сторис": ("пост",), "сторис-": ("пост",), "рилс": ("пост",), "пост": ("пост",),
    "постинг": ("пост",), "публикац": ("пост",),
    "менеджер": ("менеджер",), "манагер": ("менеджер",), "менеджор": ("менеджер",),
    "эсэмэмщик": ("smm", "менеджер"), "смм-специалист": ("smm", "менеджер"),
    "бренд": ("бренд",), "брэнд": ("бренд",),
    "линк": ("ссылк",), "ссылочк": ("ссылк",),
    "лид": ("заявк",), "лидов": ("заявк",), "обращен": ("заявк",),
    "фидбек": ("обратн", "связ"), "фидбэк": ("обратн", "связ"),
    "хейт": ("негатив",), "хейтер": ("негатив",), "хейтерств": ("негатив",),
    "негативчик": ("негатив",), "гадост": ("негатив",),
    "старт": ("запуск",), "стартова": ("запуск",), "подрядчик": ("агентств",), "исполнител": ("агентств",),
    "присутств": ("продвиж",),
    "отда": ("переда",), "отдава": ("переда",), "переда": ("переда",),
    "показ": ("показа",), "настраива": ("настро",), "заметн": ("узнаваем",), "известн": ("узнаваем",),
    "вниман": ("узнаваем",),
    # common business / marketing words -> the corpus wording
    "вовлечен": ("активн",), "вовлеченн": ("активн",), "результативн": ("эффективн",),
    "рентабельн": ("окупаем",), "прибыльн": ("прибыл",), "заказчик": ("клиент",),
    "гост": ("клиент",), "покупательниц": ("покупател",), "сопровожден": ("веден",),
    "затрат": ("расход",), "инвестиц": ("вложен",), "инвестирова": ("вложен",),
    "контракт": ("договор",), "предоплат": ("оплат",), "лидогенерац": ("заявк",),
    "конвертац": ("конверс",), "отчетност": ("отчетн",), "реализац": ("продаж",),
    "выхлоп": ("результат",), "продвин": ("продвиж",), "отчитыва": ("отчет",), "отчита": ("отчет",),
    # kinds of businesses: the FAQ never depends on which one
    "кофейн": ("бизнес",), "кафе": ("бизнес",), "рестора": ("бизнес",), "ресторан": ("бизнес",),
    "салон": ("бизнес",), "студ": ("бизнес",), "клиник": ("бизнес",), "пекарн": ("бизнес",),
    "отел": ("бизнес",), "гостиниц": ("бизнес",), "барбершоп": ("бизнес",), "автосервис": ("бизнес",),
    "шоурум": ("бизнес",), "стартап": ("бизнес",), "производств": ("бизнес",), "стоматолог": ("бизнес",),
    "фитнес": ("бизнес",), "фитнес-клуб": ("бизнес",), "ателье": ("бизнес",), "пиццер": ("бизнес",),
    "красот": ("бизнес",), "маникюр": ("бизнес",), "барбер": ("бизнес",), "автомойк": ("бизнес",),
    "шиномонтаж": ("бизнес",), "зоомагазин": ("бизнес",), "аптек": ("бизнес",), "кондитерск": ("бизнес",),
    # job titles: whom a business hires ("найти повара через вк")
    "повар": ("сотрудник",), "барист": ("сотрудник",), "официант": ("сотрудник",), "продавц": ("сотрудник",),
    "курьер": ("сотрудник",), "водител": ("сотрудник",), "администратор": ("сотрудник",),
    "наня": ("найм",), "нанима": ("найм",), "нанят": ("найм",), "наем": ("найм",),
    "монетизирова": ("монетизац",), "монетиз": ("монетизац",),
    "уборщиц": ("сотрудник",), "кассир": ("сотрудник",), "шве": ("сотрудник",), "продавщиц": ("сотрудник",),
    "грузчик": ("сотрудник",), "стилист": ("сотрудник",), "парикмахер": ("сотрудник",),
    # data lying somewhere is data kept
    "сведен": ("дан",), "лежат": ("хран",), "лежит": ("хран",),
    # moving people from one place to another ("переводить подписчиков на сайт")
    "перевод": ("перевест",), "переводя": ("перевест",),
}

# Low-information context words: city names and people around the writer ("у меня кофейня
# в казани", "сын сказал").  The FAQ never depends on them: unknown to the corpus they cost
# the query far less than other unknown words, known to it their weight is capped.
_LOW_INFO_WORDS = """
москва мск питер спб петербург екатеринбург екб новосибирск нск казань краснодар самара тула
тюмень воронеж пермь волгоград челябинск омск томск саратов ярославль иркутск хабаровск
владивосток калининград сочи крым минск алматы астана ташкент новгород рязань липецк курск
тверь пенза ижевск барнаул ульяновск кемерово махачкала оренбург набережные челны подмосковье
город городе городок поселок деревня село район области область регион
сын сына дочь дочка муж жена мама мать папа отец брат сестра подруга знакомый знакомая
коллега начальник шеф бабушка дедушка ребенок дети внук внучка свекровь теща партнерша
лет годик пенсионер пенсионерка студент студентка школьник мамочка
"""

# Colloquial surface words → replacement text (before stemming).
SURFACE_SYNONYMS: dict[str, str] = {
        "комменты": "комментарии", "комментах": "комментариях", "коммент": "комментарий",
    "коменты": "комментарии", "коментах": "комментариях", "камменты": "комментарии",
    "инста": "инстаграм", "инсту": "инстаграм", "инсты": "инстаграм", "инсте": "инстаграм",
    "инстаграмчик": "инстаграм", "инстик": "инстаграм", "инсточка": "инстаграм",
    "вконтач": "вконтакте", "вконтачике": "вконтакте", "вкшечка": "вконтакте", "вэка": "вконтакте",
    "телега": "телеграм", "телеге": "телеграм", "телегу": "телеграм", "телеги": "телеграм",
    "одноклы": "одноклассники", "однокласники": "одноклассники",
    "скока": "сколько", "скоко": "сколько", "скольк": "сколько", "сколька": "сколько",
    "скок": "сколько", "сколко": "сколько", "скольо": "сколько", "стока": "сколько",
    "скольки": "сколько", "сколки": "сколько", "чт": "что",
    "почем": "цена", "почемс": "цена",
    # farewells / fillers (typo matching would otherwise pull them to real words)
    "свидания": "", "свиданья": "", "пока": "", "удачи": "", "хорошего": "", "всего": "",
    "конкретно": "", "точно": "", "примерно": "", "обычно": "", "лично": "", "прям": "", "прямо": "",
    "реально": "", "также": "", "тоже": "", "вот": "", "итак": "", "ребят": "", "ребята": "",
    "здрасте": "", "здрасьте": "", "здравствуйте": "", "приветствую": "", "хай": "", "салют": "",
    "заранее": "", "благодарю": "",
    "чё": "", "че": "", "шо": "", "чо": "",
    # function words as typed in a hurry
    "каг": "как", "кагда": "когда", "када": "когда", "ваще": "вообще",
    "вапще": "вообще", "воще": "вообще", "вобще": "вообще", "вопще": "вообще", "тока": "только",
    "токо": "только", "чиво": "что", "чево": "что", "чего-то": "что", "шта": "что", "штоб": "чтобы",
    "щто": "что", "што-то": "что", "чет": "что", "чета": "что", "ниче": "", "ничо": "", "канеш": "",
    "канешно": "", "конеш": "", "кароч": "", "короч": "", "кстате": "", "плз": "", "пжлст": "",
    "норм": "", "нормас": "", "ок": "", "окей": "", "лан": "", "ладн": "",
    "щас": "сейчас", "инфа": "информация", "инфу": "информацию", "инфы": "информации",
    "смммщик": "smm менеджер", "эсэмэмщик": "smm менеджер",
    "кп": "коммерческое предложение", "кпшку": "коммерческое предложение",
    "прайсик": "прайс", "прайслист": "прайс", "прейскурант": "прайс",
    "слово": "термин", "словечко": "термин",
    "соцсетки": "соцсети", "соцсетках": "соцсетях", "соцсеточки": "соцсети",
}

# (substrings one of which the text must contain, pattern, replacement): the cheap substring
# check skips most rules for most texts
_PHRASE_RULE_SPECS: tuple[tuple[tuple[str, ...], str, str], ...] = (
        (("social",), r"social\s+media\s+marketing", " smm "),
        (("маркетинг",), r"маркетинг\w*\s+в\s+(?:соц\w*\s*сет\w*|социальн\w+\s+сет\w*)", " smm "),
        (("эс",), r"\b(?:эс\s*эм\s*эм|эсэмэм|эсемем|эсэм)[\s\-]*(?:щик|щиц|шник|шниц)\w*", " smm менеджер "),
        (("эс",), r"\b(?:эс\s*эм\s*эм|эсэмэм\w*|эсемем\w*|эсэм\w*)\b", " smm "),
        (("мм", "mm"), r"\b(?:smm|смм|сммм|ссмм|smmm)[\s\-]*(?:щик\w*|щиц\w*|шник\w*|шниц\w*"
                       r"|sh(?:ch)?ik\w*|sch(?:ch)?ik\w*|shnik\w*|schiz\w*|shiz\w*)", " smm менеджер "),
        (("интернет",), r"\bинтернет[\s\-]*магазин\w*", " сайт "),
        (("мм", "mm"), r"\b(?:с|s)+(?:м|m){2,}(?:щик\w*|щиц\w*)", " smm менеджер "),
        (("мм", "mm"), r"\b(?:с|s)+(?:м|m){2,}\b", " smm "),
        (("ссм", "ssm"), r"\b(?:ссм|ssm)\b", " smm "),
        (("m",), r"\bs\s*m\s*m\b", " smm "),
        (("152",), r"\b152\s*-?\s*фз\b", " фз 152 "),
        (("для", "dl"), r"\bдля\s+чего\b|\bdl[yj]a\s+ch?ego\b", " зачем "),
        # "через сколько" is a question about time, not money: read as "сколько ждать"
        (("через", "cherez"),
         r"\b(?:через|cherez)\s+(?:сколько|скока|скоко|скок|скольк\w*|skolko|какое\s+время|какой\s+срок)\b",
         " сколько ждать "),
        # "сколько берете": a price ("откуда smm берет данные" is not)
        (("бер",), r"\b(?:сколько|скока|скоко|почем)\s+(?:вы\s+|у\s+вас\s+)?бер[её]\w*", " сколько стоит "),
        # "what does an smm manager do" ~ "что делает smm менеджер"
        (("what",), r"\bwhat\s+(?:does|do)\s+(?:an?\s+|the\s+|your\s+)?((?:\w+\s+)?(?:manager|specialist|marketer)s?)"
                    r"\s+(?:actually\s+|really\s+|exactly\s+)?do\b", r" что делает \1 "),
        # "hire you" is ordering the service, not hiring staff
        (("hire",), r"\bhire\s+(?:you|your\s+\w+)\b", " заказать "),
        # "what can SMM do for my business" ~ "что даст smm"
        (("what",), r"\bwhat\s+(?:can|will|would|could|does|do)\s+(?:the\s+)?(\w+)\s+(?:do|give|bring|offer)\b",
         r" что даст \1 "),
        (("mail",), r"\be-?mail\b", " почта "),
        (("яндекс", "yandex"), r"\b(?:яндекс|yandex)[\s\.\-]*(?:метрик\w*|metrika)", " яндекс метрика "),
        (("гугл", "adwords", "адворд"), r"\bгугл\s*(?:адс|эдс|эдз|адвордс|ads)\b|\b(?:adwords|адвордс)\b",
         " google ads "),
        (("себе", "вашей"), r"\bо\s+себе\b|\bо\s+вашей\s+(?:компании|команде|фирме)\b", " о вас "),
        (("зверь", "zver"), r"\bчто\s+(?:это\s+)?за\s+зверь\w*|\bchto\s+(?:eto\s+)?za\s+zver\w*", " что такое "),
        # "в какую сумму обойдётся": a price
        (("обойд", "обходит"), r"\b(?:в\s+как\w+\s+сумм\w+|во\s+сколько|во\s+скока|сколько)\s+(?:\w+\s+)?"
                              r"(?:обойд[её]т\w*|обходит\w*)", " сколько стоит "),
        # "nobody has heard of us", "get our name out", "get known": awareness
        (("heard", "name", "known"), r"\b(?:nobody|no\s+one|noone)(?:'s|\s+has|\s+have)?\s+(?:ever\s+)?heard\s+of\b"
                                     r"|\bget\s+(?:our|my|the|your)\s+name\s+out\b"
                                     r"|\b(?:get|become|be)\s+(?:better\s+|more\s+|widely\s+)?known\b", " узнаваемость "),
        (("являет",), r"\bкем\s+являет\w*", " кто такой "),
        (("мщик", "мщиц"), r"\b(?:см|sm)щи[кц]\w*", " smm менеджер "),  # "смщик": one м typed
        # asides that say nothing of the topic ("что конкретно делает ... изо дня в день")
        (("конкретн", "изо", "факту", "сути", "konkret", "faktu", "suti"),
         r"\b(?:конкретно|изо\s+дня\s+в\s+день|по\s+факту|по\s+сути|konkretno|po\s+faktu|po\s+suti)\b", " "),
        (("вопрос",), r"\bцена\s+вопроса\b", " сколько стоит "),
        # "ваш телефон", "почта ваша": the agency's contacts, not the data it collects
        (("ваш",), r"\bваш\w*\s+(?:номер\w*\s+)?(?:телефон\w*|почт\w*|имейл\w*|мейл\w*|емейл\w*|контактн\w*\s+данн\w*)"
                  r"|\b(?:телефон\w*|почт\w*)\s+(?:или\s+\w+\s+)?ваш\w*", " ваши контакты "),
        (("reach",), r"\breach\s+(?:you|out|your\s+\w+)\b", " связаться "),
        # "перестаньте использовать мои данные": withdrawing consent
        (("перест", "прекрат"), r"\b(?:перестал\w*|перестан\w*|перестать|прекрат\w*|прекращ\w*)\s+(?:\w+\s+){0,2}"
                                r"(?:использова\w*|обрабатыва\w*|обработк\w*|хранит\w*|хранени\w*)\s+(?:\w+\s+){0,3}"
                                r"(?:дан\w+|контакт\w*|номер\w*|телефон\w*|почт\w*)", " отозвать согласие данные "),
        (("long",), r"\bhow\s+long\b", " сколько ждать "),
        (("set",), r"\bset(?:ting)?\s+up\b|\bsetup\b", " настроить "),  # not "сеть"
        (("по ч", "po ch"), r"\b(?:по\s+ч[её]м|po\s+chem)\b", " цена "),  # "почём", typed apart
        # hiring an SMM manager is about the manager, not about hiring staff through social networks
        (("hire", "наня", "нанима", "нанят"),
         r"\b(?:hire|hiring|нанять|нанимать|нанят\w*|наймем|найму)\s+(?:an?\s+|the\s+|a\s+good\s+)?"
         r"(?:smm|social\s+media)\s+(?:person|manager|specialist|guy|expert|менеджер\w*|специалист\w*)", " smm менеджер "),
        (("словах", "пальцах", "словами", "прост", "человеч", "помощью", "pal"),
         r"\b(?:na\s+pal'?(?:ts|c)ah|v\s+dvuh\s+slovah|в\s+двух\s+словах|на\s+пальцах|простыми\s+словами|по[\s\-]?простому|по[\s\-]?человечески"
         r"|простым\s+языком|с\s+помощью)\b", " "),
        (("соц",), r"\bсоц[\s\.\-]+сет\w*", " соцсети "),
        # "стоит ли", "стоит продвигать": worth doing, not a price
        (("стоит",), r"(?<!сколько\s)(?<!скока\s)(?<!скоко\s)(?<!сколько\sже\s)\b(?:не\s+)?стоит\s+(?:ли\b|(?=(?:\w+\s+)?\w+(?:ть|ться|ти)\b))", " есть смысл "),
)
_PHRASE_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r) for _needles, p, r in _PHRASE_RULE_SPECS)
_NEEDLES: tuple[tuple[str, int], ...] = tuple(  # (needle, index of its rule)
    (n, i) for i, (needles, _p, _r) in enumerate(_PHRASE_RULE_SPECS) for n in needles)

_LAT2CYR_HOMO = str.maketrans({
    "a": "а", "b": "в", "c": "с", "e": "е", "h": "н", "k": "к", "m": "м", "o": "о",
    "p": "р", "t": "т", "x": "х", "y": "у",
})
_CYR_RE = re.compile(r"[а-я]")
_LAT_RE = re.compile(r"[a-z]")
_TOKEN_RE = re.compile(r"[a-zа-я0-9]+(?:[\-'][a-zа-я0-9]+)*")
_MIXED_WORD_RE = re.compile(r"\S*(?:[а-я]\S*[a-z]|[a-z]\S*[а-я])\S*")

_FOLD_TABLE = str.maketrans({
    "ё": "е", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2212": "-", "\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "ъ": "ъ",
})
# the characters _FOLD_TABLE changes: most texts have none, and a search is cheaper than translate
_FOLD_CHARS_RE = re.compile("[" + re.escape("".join(chr(c) for c, v in _FOLD_TABLE.items() if chr(c) != v)) + "]")


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """NFKC, lower case, ё→е, unified dashes/apostrophes; repairs mixed-script words."""
    t = unicodedata.normalize("NFKC", text).lower()
    if _FOLD_CHARS_RE.search(t):
        t = t.translate(_FOLD_TABLE)
    if _CYR_RE.search(t) and _LAT_RE.search(t):
        t = _MIXED_WORD_RE.sub(_fix_mixed_word, t)
    return t


def _fix_mixed_word(m: re.Match[str]) -> str:
    w = m.group(0)
    if _CYR_RE.search(w) and _LAT_RE.search(w):
        w = w.translate(_LAT2CYR_HOMO)
        if _LAT_RE.search(w):  # leftover Latin letters: transliterate each run
            w = re.sub(r"[a-z]+", lambda mm: translit_to_cyrillic(mm.group(0)), w)
    return w


# ---------------------------------------------------------------- transliteration

_TRANSLIT_MULTI = (
    ("shch", "щ"), ("sch", "щ"), ("tsya", "тся"), ("tsja", "тся"), ("tch", "ч"),
    ("zh", "ж"), ("kh", "х"), ("ch", "ч"), ("sh", "ш"), ("ts", "ц"), ("cz", "ч"),
    ("yu", "ю"), ("ju", "ю"), ("ya", "я"), ("ja", "я"), ("yo", "е"), ("jo", "е"),
    ("ye", "е"), ("je", "е"), ("iy", "ий"), ("yy", "ый"), ("ck", "к"), ("ph", "ф"),
    ("x", "кс"),
)
_TRANSLIT_SINGLE = {
    "a": "а", "b": "б", "v": "в", "g": "г", "d": "д", "e": "е", "z": "з", "i": "и",
    "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "r": "р", "s": "с",
    "t": "т", "u": "у", "f": "ф", "h": "х", "c": "к", "w": "в", "q": "к", "j": "й",
    "'": "ь",
}
_VOWELS_CYR = set("аеиоуыэюяё")


_TRANSLIT_TOKEN_RE = re.compile("|".join(re.escape(lat) for lat, _ in _TRANSLIT_MULTI) + "|.", re.S)
_TRANSLIT_MULTI_MAP = dict(_TRANSLIT_MULTI)


@lru_cache(maxsize=8192)
def translit_to_cyrillic(word: str) -> str:
    """Best-effort reverse of common Russian Latin transliteration ("zhdat" → "ждат")."""
    out: list[str] = []
    for m in _TRANSLIT_TOKEN_RE.finditer(word):
        tok = m.group(0)
        cyr = _TRANSLIT_MULTI_MAP.get(tok)
        if cyr is not None:
            out.append(cyr)
        elif tok == "y":
            prev = out[-1][-1] if out and out[-1] else ""
            out.append("й" if prev in _VOWELS_CYR else "ы")
        elif tok == "e" and m.start() == 0:
            out.append("э")
        else:
            out.append(_TRANSLIT_SINGLE.get(tok, tok if not tok.isalpha() else ""))
    res = "".join(out)
    if len(res) > 2 and res[-1] == "и" and res[-2] in _VOWELS_CYR:  # takoi, moi, drugoi
        res = res[:-1] + "й"
    return res


# Ambiguous Latin spellings: (Latin run, first reading, alternative readings).  The first
# reading is what ``translit_to_cyrillic`` gives; the alternatives make the other candidates of
# ``translit_variants`` ("voobshe" -> "вообще", "ceny" -> "цены", "eshe" -> "еще").
_TRANSLIT_ALT: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"ш"), "щ"),
    (re.compile(r"к(?=[еиыя])"), "ц"),
    (re.compile(r"(?<=[аеиоуыэюя])е"), "э"),
    (re.compile(r"ы"), "и"),
    (re.compile(r"(?<=[аеиоуыэюя])т(?=$|с[яа]$)"), "ть"),
    (re.compile(r"й(?=[аоуе])"), "ж"),
    (re.compile(r"^э"), "е"),
    (re.compile(r"(?<=[аоуэ])и(?=[бвгджзклмнпрстфхцчшщ]|$)"), "й"),  # prais = прайс
)
MAX_TRANSLIT_VARIANTS = 6
_LATIN_C_RE = re.compile(r"c(?![hkz])")


@lru_cache(maxsize=8192)
def translit_variants(word: str) -> tuple[str, ...]:
    """Readings of a transliterated Russian word, the usual one first: each ambiguous
    spelling (sh = ш/щ, c = к/ц, a final soft sign dropped ...) read both ways, at most
    ``MAX_TRANSLIT_VARIANTS`` readings."""
    out = [translit_to_cyrillic(word)]
    if "c" in word:  # "c" is ц as often as к: socseti, cena
        alt_c = translit_to_cyrillic(_LATIN_C_RE.sub("ts", word))
        if alt_c not in out:
            out.append(alt_c)
    for rx, alt in _TRANSLIT_ALT:
        for v in list(out):
            w = rx.sub(alt, v)
            if w != v and w not in out:
                out.append(w)
            if len(out) >= MAX_TRANSLIT_VARIANTS:
                return tuple(out)
    return tuple(out)


# ---------------------------------------------------------------- stemming helpers

@lru_cache(maxsize=32768)
def stem_ru(word: str) -> str:
    return _RU_STEMMER.stemWord(word)


@lru_cache(maxsize=8192)
def stem_en(word: str) -> str:
    return _EN_STEMMER.stemWord(word)


LOW_INFO_STEMS = frozenset(stem_ru(w) for w in _LOW_INFO_WORDS.split())

_SKELETON_TABLE = str.maketrans({"ь": None, "ъ": None, "й": "и", "ы": "и", "э": "е", "щ": "ш"})


@lru_cache(maxsize=32768)
def skeleton(term: str) -> str:
    """Spelling-insensitive key of a Russian stem (drops ь/ъ, й→и, ы→и, э→е, щ→ш)."""
    return term.translate(_SKELETON_TABLE)


@lru_cache(maxsize=65536)
def _ru_terms(word: str) -> tuple[str, ...]:
    if word in RU_STOPWORDS or len(word) < 2 and not word.isdigit():
        return ()
    st = stem_ru(word) if not word.isdigit() else word
    syn = STEM_SYNONYMS.get(st)
    if syn is None:
        syn = LEXICON.get(st)
    return syn if syn is not None else (st,)


def _load_lexicon(path: Path) -> dict[str, tuple[str, ...]]:
    """``faq/synonyms.yaml`` as stem -> stems of the FAQ word; stems the built-in map
    (``STEM_SYNONYMS``) already handles or maps to, and the FAQ words' own stems, are left alone."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER) or {}
    mapped = set(STEM_SYNONYMS) | {t for ts in STEM_SYNONYMS.values() for t in ts}
    lex: dict[str, tuple[str, ...]] = {}
    for key, words in data.items():
        key = fold(str(key))
        if key in RU_STOPWORDS or len(key) < 2:
            continue
        # the key's own terms through the built-in map only: not through ``_ru_terms``, whose
        # cache would keep answers computed while the lexicon was still empty
        kst = stem_ru(key)
        target = STEM_SYNONYMS.get(kst, (kst,))
        for w in words or ():
            w = fold(str(w))
            st = stem_ru(w)
            if st in mapped or st in target or w in RU_STOPWORDS:
                continue
            lex.setdefault(st, target)
    return lex


LEXICON: dict[str, tuple[str, ...]] = _load_lexicon(SYNONYMS_PATH)


# ---------------------------------------------------------------- analysis

class Slot(NamedTuple):
    """One content word of a text (a named tuple: texts have many, made per analysis).

    ``terms``: candidate index terms, the preferred first (several only for
    Latin words of a query: transliterated Russian stem, then English stem).
    ``surface``: Cyrillic surface form used for fuzzy (typo) matching, or "".
    ``group``: words produced from the same source word share a group number.
    """

    terms: tuple[str, ...]
    surface: str
    group: int


_last_checked: list = ["", []]  # the last text whose needles were all checked, and its rules


@lru_cache(maxsize=8192)
def _apply_phrases(folded: str) -> str:
    # a rule runs only when one of its needles is in the text (substring tests are fast); a part
    # of the text checked last (a clause or a sentence of the same message) can only have the
    # needles found there
    last_text, last_rules = _last_checked
    if folded in last_text:
        rules = [i for i in last_rules if any(n in folded for n in _PHRASE_RULE_SPECS[i][0])]
    else:
        rules = sorted({i for n, i in _NEEDLES if n in folded})
        _last_checked[:] = [folded, rules]
    t = folded
    for i in rules:
        rx, rep = _PHRASE_RULES[i]
        t = rx.sub(rep, t)
    return t


def _expand_ru(word: str, group: int, out: list[Slot]) -> None:
    if word in AGENCY_NAMES:
        out.append(Slot(("kosmmos",), "", group))
        out.append(Slot(("~вы",), "", group))
        return
    weak = WEAK_WORDS.get(word)
    if weak is not None:
        out.append(Slot((weak,), "", group))
        return
    rep = SURFACE_SYNONYMS.get(word)
    if rep is not None and rep != word:
        for w in rep.split():
            _expand_ru(w, group, out)
        return
    for term in _ru_terms(word):
        out.append(Slot((term,), word, group))


def _expand_text_ru(text: str, group: int, out: list[Slot]) -> None:
    for tok in _TOKEN_RE.findall(_apply_phrases(fold(text))):
        for part in _split_hyphen(tok):
            if _LAT_RE.search(part):
                lat = LATIN_MAP.get(part)
                if lat is not None:
                    if lat:
                        out.append(Slot((lat,), "", group))
                    continue
                out.append(Slot((part,), "", group))
            else:
                _expand_ru(part, group, out)


def _split_hyphen(tok: str) -> list[str]:
    tok = tok.strip("-'")
    if not tok:
        return []
    if "-" in tok:
        st = stem_ru(tok) if not _LAT_RE.search(tok) else tok
        if st in STEM_SYNONYMS:
            return [tok]
        return [p for p in re.split(r"[\-']", tok) if p]
    return [tok.replace("'", "")] if not _CYR_RE.search(tok) else [tok.replace("'", "ь")]


@lru_cache(maxsize=16384)
def analyze(text: str, for_index: bool = False) -> tuple[Slot, ...]:
    """Split text into content-word slots (stop words dropped, synonyms applied).

    Latin words unknown to the English map get their English stem and the stems of their
    Russian readings ("rezultat" -> "результат") as candidates: readings first for a query,
    the English stem first with ``for_index`` (the index picks, see ``FaqIndex.build``).
    """
    out: list[Slot] = []
    group = 0
    new = tuple.__new__  # Slot(...) without its Python-level __new__: analysis makes many
    for tok in _TOKEN_RE.findall(_apply_phrases(fold(text))):
        for part in _token_parts(tok, for_index):
            group += 1
            out.extend([new(Slot, (terms, surface, group)) for terms, surface in part])
    return tuple(out)


@lru_cache(maxsize=32768)
def _token_parts(tok: str, for_index: bool) -> tuple[tuple[tuple[tuple[str, ...], str], ...], ...]:
    """Slots (terms, surface) of each part of one token: tokens repeat across texts, so
    ``analyze`` caches their analysis here and only numbers the groups."""
    parts = []
    for part in _split_hyphen(tok):
        out: list[Slot] = []
        _analyze_part(part, for_index, out)
        parts.append(tuple((sl.terms, sl.surface) for sl in out))
    return tuple(parts)


def _analyze_part(part: str, for_index: bool, out: list[Slot]) -> None:
    group = 0  # numbered by analyze
    if not _LAT_RE.search(part) or part in AGENCY_NAMES:
        _expand_ru(part, group, out)
        return
    if part in LATIN_MAP:
        mapped = LATIN_MAP[part]
        if mapped and _LAT_RE.search(mapped) and " " not in mapped:
            out.append(Slot((mapped,), "", group))
        elif mapped:
            _expand_text_ru(mapped, group, out)
        return
    weak = EN_WEAK_WORDS.get(part)
    if weak is not None:
        out.append(Slot((weak,), "", group))
        return
    if part in EN_STOPWORDS:
        return
    en = stem_en(part)
    mapped = EN_MAP.get(part, EN_MAP.get(en))
    if mapped is not None:
        if mapped:
            _expand_text_ru(mapped, group, out)
        return
    if not part.isalpha():
        out.append(Slot((en,), "", group))
        return
    readings = translit_variants(part)
    # a reading the synonym maps know ("socseti" -> "соцсети") is a Russian word for sure
    cyr = next((r for r in readings if r in SURFACE_SYNONYMS or stem_ru(r) in STEM_SYNONYMS
                or stem_ru(r) in LEXICON), readings[0])
    weak = next((WEAK_WORDS[r] for r in readings if r in WEAK_WORDS), None)
    if weak is not None:
        out.append(Slot((weak,), "", group))
        return
    if len(cyr) < 2 or any(r in RU_STOPWORDS for r in readings):
        return
    rep = SURFACE_SYNONYMS.get(cyr)
    if rep is not None:
        sub: list[Slot] = []
        for w in rep.split():
            _expand_ru(w, group, sub)
        out.extend(sub)
        return
    ru = _ru_terms(cyr)
    if not ru:
        return
    if len(ru) == 1:
        cands = [ru[0]]
        for r in readings:  # other readings as fallback candidates
            rt = _ru_terms(r)
            if len(rt) == 1 and rt[0] not in cands:
                cands.append(rt[0])
        # index: the English stem first (the index keeps a Russian reading when the
        # corpus knows it in Cyrillic, see FaqIndex.build); query: readings first
        out.append(Slot((en, *cands) if for_index else (*cands, en), cyr, group))
    else:
        out.extend(Slot((t,), cyr, group) for t in ru)


@lru_cache(maxsize=8192)
def phrase_key(text: str) -> str:
    """Whole-phrase key: folded words joined by single spaces (punctuation dropped)."""
    return " ".join(_TOKEN_RE.findall(_apply_phrases(fold(text))))


_LATIN_WORD_RE = re.compile(r"[a-z]+(?:'[a-z]*)?")
_TRANSLIT_SOFT_RE = re.compile(r"(?<=[аеиоуыя])(т|тс(?:я|а))\b")


@lru_cache(maxsize=8192)
def surface_text(text: str) -> str:
    """Text for the off-topic rules: the folded original (Latin kept as typed), then the same
    sentence with Latin words transliterated in place, then once more with the soft signs
    that Latin spelling drops restored ("kak stat smm" → "как стать smm")."""
    norm = _apply_phrases(fold(text))
    if not _LAT_RE.search(norm):
        return " " + norm + " "
    def tr(m: re.Match[str], soft: bool = False) -> str:
        w = m.group(0)
        if w in LATIN_MAP:
            return w
        c = translit_to_cyrillic(w)
        return _TRANSLIT_SOFT_RE.sub(lambda mm: "ть" if mm.group(1) == "т" else "ться", c) if soft else c

    lines = [norm]
    cyr = _LATIN_WORD_RE.sub(tr, norm)
    lines.append(_apply_phrases(cyr))
    soft = _LATIN_WORD_RE.sub(lambda m: tr(m, True), norm)
    if soft != cyr:
        lines.append(_apply_phrases(soft))
    return " " + " | ".join(lines) + " "
