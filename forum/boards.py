"""The six boards and their policies, as data. Services consult these; nothing else decides
who may post, answer or see where.

Names, descriptions, categories, due times and whether a board is open are admin settings kept
in the store (`BoardSettings`); the defaults below seed them on first start. The policy itself
(who may do what) is code-reviewed data and lives only here.
"""

from __future__ import annotations

from dataclasses import dataclass

from forum.model import OFFICIAL_ROLES, BoardSettings, Department, Kind, Role, Status


@dataclass(frozen=True)
class Policy:
    slug: str
    name: str
    kind: Kind
    description: str
    categories: tuple[str, ...]
    posters: frozenset[Role]  # roles that may open a post
    visitors_may_post: bool = False  # posting without an account (tax reports)
    answerers: frozenset[Role] = frozenset()
    citizens_may_comment: bool = False
    confidential: bool = False  # never public; outsiders get 404
    review: bool = False  # held for a moderator before it is public
    anonymity: bool = False  # the writer may hide their name
    real_name: bool = False  # a contact and the writer's name are required (实名)
    typed: bool = False  # posts carry a letter type and an area
    replies: bool = True


EVERY_ROLE = frozenset(Role)
OFFICIALS = OFFICIAL_ROLES
# What people write to the mayor about, and what the 12345 hotline's replies are filed under:
# one list, so a letter and a hotline reply on the same matter share their category.
CITY_AFFAIRS = (
    "城乡建设",
    "社会保障",
    "教育",
    "医疗卫生",
    "治安",
    "市场监管",
    "生态环境",
    "交通",
    "其他",
)

POLICIES: dict[str, Policy] = {
    policy.slug: policy
    for policy in (
        Policy(
            slug="forum",
            name="强市论坛",
            kind=Kind.DISCUSSION,
            description="市民交流讨论、建言献策的公共论坛。",
            categories=(
                "城市建设",
                "交通出行",
                "教育",
                "医疗卫生",
                "环境保护",
                "民生热点",
                "建言献策",
                "其他",
            ),
            posters=EVERY_ROLE,
            citizens_may_comment=True,
        ),
        Policy(
            slug="lawyer",
            name="在线律师咨询",
            kind=Kind.CONSULTATION,
            description="志愿律师在线解答法律问题，提问时可选择以“网友”身份显示。",
            categories=("劳动", "婚姻家庭", "房产", "合同", "刑事", "交通事故", "其他"),
            posters=EVERY_ROLE,
            answerers=frozenset({Role.LAWYER}),
            anonymity=True,
        ),
        Policy(
            slug="tax",
            name="涉税案件网上举报",
            kind=Kind.CASE,
            description="举报涉税违法案件。举报内容保密，仅举报人、信访局及承办部门可见；无需注册，凭查询码跟进。",
            categories=("偷税漏税", "虚开发票", "骗取出口退税", "其他"),
            posters=EVERY_ROLE,
            visitors_may_post=True,
            answerers=frozenset({Role.STAFF}),
            confidential=True,
            review=True,
            anonymity=True,
        ),
        Policy(
            slug="agri",
            name="农业科技信箱",
            kind=Kind.CONSULTATION,
            description="农业专家解答种植、养殖、植保、农机等技术问题。",
            categories=("种植", "畜牧", "植保", "农机", "水产", "其他"),
            posters=EVERY_ROLE,
            answerers=frozenset({Role.EXPERT}),
            anonymity=True,
        ),
        Policy(
            slug="mayor",
            name="市长书记信箱",
            kind=Kind.CASE,
            description="实名写信给市长、书记，由市信访局受理并转办相关部门答复。",
            categories=CITY_AFFAIRS,
            posters=EVERY_ROLE,
            answerers=frozenset({Role.STAFF}),
            review=True,
            real_name=True,
            typed=True,
        ),
        Policy(
            slug="hotline",
            name="市长热线12345回复",
            kind=Kind.BULLETIN,
            description="市长热线12345受理事项的办理答复公开。",
            categories=CITY_AFFAIRS,
            posters=OFFICIALS,
            replies=False,
            typed=True,
        ),
    )
}

# The boards whose posts are cases (letters and reports), in the order they are defined.
CASE_BOARDS = tuple(slug for slug, p in POLICIES.items() if p.kind is Kind.CASE)

BOARD_ORDER = ("forum", "lawyer", "tax", "agri", "mayor", "hotline")

# The letters-and-visits bureau: it routes cases, so it is never routed to.
BUREAU = "xinfang"

DEPARTMENTS: tuple[Department, ...] = (
    Department("xinfang", "市信访局"),
    Department("tax", "税务局"),
    Department("agri", "农业农村局"),
    Department("justice", "司法局"),
    Department("hrss", "人力资源和社会保障局"),
    Department("housing", "住房和城乡建设局"),
    Department("police", "公安局"),
    Department("market", "市场监督管理局"),
    Department("education", "教育体育局"),
    Department("health", "卫生健康委员会"),
    Department("environment", "生态环境局"),
    Department("transport", "交通运输局"),
    *(
        Department(f"gov-{slug}", f"{name}人民政府", "county")
        for slug, name in (
            ("hongta", "红塔区"),
            ("jiangchuan", "江川区"),
            ("chengjiang", "澄江市"),
            ("tonghai", "通海县"),
            ("huaning", "华宁县"),
            ("yimen", "易门县"),
            ("eshan", "峨山彝族自治县"),
            ("xinping", "新平彝族傣族自治县"),
            ("yuanjiang", "元江哈尼族彝族傣族自治县"),
        )
    ),
)

# Where a letter's matter lies: the city itself, or one of its nine county-level divisions,
# whose government (gov-<area>) handles what is local to it (属地管理).
AREAS: dict[str, str] = {
    "city": "市本级",
    "hongta": "红塔区",
    "jiangchuan": "江川区",
    "chengjiang": "澄江市",
    "tonghai": "通海县",
    "huaning": "华宁县",
    "yimen": "易门县",
    "eshan": "峨山县",
    "xinping": "新平县",
    "yuanjiang": "元江县",
}

# What a letter (or a hotline call) is.
LETTER_TYPES: dict[str, str] = {
    "consult": "咨询",
    "complaint": "投诉",
    "suggestion": "建议",
    "help": "求助",
    "praise": "表扬",
}

# The status a new post starts in, by kind of board (before any hold for review).
INITIAL_STATUS = {
    Kind.DISCUSSION: Status.PUBLISHED,
    Kind.CONSULTATION: Status.OPEN,
    Kind.CASE: Status.SUBMITTED,
    Kind.BULLETIN: Status.PUBLISHED,
}

# What the public may see of each kind (case boards add their own public/confidential rule).
PUBLIC_STATUSES: dict[Kind, tuple[Status, ...]] = {
    Kind.DISCUSSION: (Status.PUBLISHED,),
    Kind.CONSULTATION: (Status.OPEN, Status.ANSWERED, Status.RESOLVED),
    Kind.CASE: (
        Status.ACCEPTED,
        Status.ROUTED,
        Status.REPLIED,
        Status.CLOSED,
        Status.UNRATED,
        Status.MERGED,
    ),
    Kind.BULLETIN: (Status.PUBLISHED,),
}


def policy(slug: str) -> Policy | None:
    return POLICIES.get(slug)


def default_settings() -> list[BoardSettings]:
    return [
        BoardSettings(
            slug=p.slug, name=p.name, description=p.description, categories=list(p.categories)
        )
        for p in POLICIES.values()
    ]
