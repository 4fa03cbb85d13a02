"""The pool bulk forum posts (for benchmarks) are made from: subjects, title forms, places and
the sentences of their paragraphs."""

from __future__ import annotations

from forum.ops.demo.words.people import COMMUNITIES, DISTRICTS, ROADS

# (subject, forum category): what a bulk post is about.
BULK_SUBJECTS = [
    ("停车难", "交通出行"),
    ("路灯不亮", "城市建设"),
    ("公交班次少", "交通出行"),
    ("垃圾清运不及时", "环境保护"),
    ("夜间噪音扰民", "环境保护"),
    ("绿化带缺少维护", "城市建设"),
    ("下水道堵塞", "城市建设"),
    ("电梯老化", "城市建设"),
    ("菜市场环境差", "民生热点"),
    ("学校门口交通拥堵", "教育"),
    ("共享单车乱停", "交通出行"),
    ("夜市占道经营", "民生热点"),
    ("充电桩不够用", "民生热点"),
    ("下雨路面积水", "城市建设"),
    ("广场舞音响太大", "环境保护"),
    ("宠物粪便没人清理", "环境保护"),
    ("电动车逆行", "交通出行"),
    ("老旧小区改造", "城市建设"),
    ("公园厕所太少", "建言献策"),
    ("看病挂号难", "医疗卫生"),
    ("幼儿园入园难", "教育"),
    ("快递柜不够用", "民生热点"),
    ("健身步道破损", "建言献策"),
    ("餐馆油烟扰民", "环境保护"),
]
BULK_TITLES = [
    "{place}{subject}的问题",
    "{place}{subject}，有人管吗？",
    "说说{place}{subject}",
    "{place}{subject}怎么解决？",
    "关于{place}{subject}的几点建议",
    "{place}最近{subject}，大家有同感吗",
    "再说一次{place}{subject}",
    "{place}的{subject}什么时候能改善",
]
BULK_PLACES = DISTRICTS + ROADS + COMMUNITIES
# Paragraphs of a bulk post: each is one of each list's sentences, in order.
BULK_OPENINGS = [
    "我在{place}住了好几年了。",
    "最近经常路过{place}。",
    "家里老人住在{place}附近。",
    "每天上下班都要经过{place}。",
    "刚搬到{place}不久。",
    "周末带孩子去了一趟{place}。",
    "和邻居们聊起来，大家都提到{place}。",
    "在{place}开店也有几年了。",
]
BULK_MIDDLES = [
    "{subject}的情况越来越明显，早晚高峰尤其突出。",
    "说到{subject}，附近的居民都很有意见。",
    "{subject}这个问题已经反映过好几次了，一直没有彻底解决。",
    "{subject}看起来是小事，其实很影响大家的生活。",
    "前段时间{subject}有所好转，这两个月又开始了。",
    "关于{subject}，社区也开过会，但是没有下文。",
    "{subject}不只是一个地方的问题，很多小区都差不多。",
    "外地朋友来玩，也说起{subject}。",
]
BULK_CLOSINGS = [
    "希望有关部门重视一下。",
    "大家有什么好办法，一起出出主意。",
    "不知道别的地方是怎么做的？",
    "建议先做个调查，听听居民的意见。",
    "如果能早点解决就太好了。",
    "欢迎知道情况的朋友补充。",
    "我会继续关注，有进展再来更新。",
    "也想听听不同的看法。",
]
