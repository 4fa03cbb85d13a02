"""The demo's people (the admin, the bureau's moderators, department staff, volunteer
lawyers and experts, citizens) and the places its posts name."""

from __future__ import annotations

# people ---------------------------------------------------------------------------------------
ADMIN = ("demo_admin", "系统管理员")

# (username, display name): the letters-and-visits bureau's operators.
MODERATORS = [("xfj_zhangmin", "张敏（市信访局）"), ("xfj_liwei", "李伟（市信访局）")]

# (username, display name, department slug)
STAFF = [
    ("tax_zhaolei", "赵磊（税务局）", "tax"),
    ("tax_sunli", "孙丽（税务局）", "tax"),
    ("zjj_chenhao", "陈浩（住建局）", "housing"),
    ("jtj_yangfan", "杨帆（交通运输局）", "transport"),
    ("sthj_hejing", "何静（生态环境局）", "environment"),
    ("rsj_zhoujie", "周杰（人社局）", "hrss"),
    ("jyj_wangfang", "王芳（教育体育局）", "education"),
    ("wjw_liuyang", "刘洋（卫健委）", "health"),
    ("scj_huangyan", "黄艳（市场监管局）", "market"),
    ("gaj_maqiang", "马强（公安局）", "police"),
    ("nyj_duanhua", "段华（农业农村局）", "agri"),
    # county governments (属地): the areas where most letters lie
    ("htq_lixin", "李欣（红塔区人民政府）", "gov-hongta"),
    ("jcq_puhong", "普红（江川区人民政府）", "gov-jiangchuan"),
    ("thx_yangbo", "杨波（通海县人民政府）", "gov-tonghai"),
]

# (username, display name, specialties): verified volunteers.
LAWYERS = [
    ("lawyer_wangjg", "王建国律师", ["劳动", "合同"]),
    ("lawyer_lixy", "李晓燕律师", ["婚姻家庭", "房产"]),
    ("lawyer_zhaom", "赵明律师", ["刑事", "交通事故"]),
    ("lawyer_chenj", "陈静律师", ["房产", "合同", "劳动"]),
]
EXPERTS = [
    ("expert_puzh", "普正华（农技推广研究员）", ["种植", "植保"]),
    ("expert_baiy", "白云（高级畜牧师）", ["畜牧", "水产"]),
    ("expert_lics", "李春生（农机工程师）", ["农机"]),
    ("expert_yangxy", "杨秀英（植保站）", ["植保", "种植"]),
]

CITIZENS = [
    ("hongta_laowang", "红塔老王"),
    ("xiaochen_yx", "玉溪小陈"),
    ("liu_mei", "刘梅"),
    ("zhang_jianhua", "张建华"),
    ("fuxianhu_pan", "抚仙湖畔"),
    ("tonghai_cainong", "通海菜农老李"),
    ("xinping_cheng", "新平种橙人"),
    ("jiangchuan_yujia", "江川渔家"),
    ("ruirui_mama", "睿睿妈妈"),
    ("yepao_hongta", "红塔大道夜跑"),
    ("zhou_laoshi", "退休教师周老师"),
    ("dige_laohe", "的哥老何"),
    ("xiaoli_2020", "小李同学"),
    ("ningzhou_ren", "宁州人"),
    ("yimen_nonghu", "易门农户"),
    ("yuanjiang_mango", "元江芒果哥"),
    ("wang_ayi", "王阿姨"),
    ("chen_xs", "陈先生"),
    ("huaning_taoyi", "华宁陶艺人"),
    ("eshan_yijia", "峨山彝家"),
    ("zhao_lin", "赵琳"),
    ("sun_wei", "孙伟"),
    ("ma_xiaoyun", "马晓云"),
    ("yangguang_yezhu", "阳光小区业主"),
    ("li_dongsheng", "李东升"),
    ("hu_jing", "胡静"),
    ("zhou_peng", "周鹏"),
    ("luo_xia", "罗霞"),
    ("deng_hui", "邓辉"),
    ("xin_yuxiren", "新玉溪人"),
]

# places ---------------------------------------------------------------------------------------
DISTRICTS = [
    "红塔区",
    "江川区",
    "澄江市",
    "通海县",
    "华宁县",
    "易门县",
    "峨山县",
    "新平县",
    "元江县",
]
STREETS = [
    "玉兴路街道",
    "凤凰路街道",
    "北城街道",
    "春和街道",
    "李棋街道",
    "大营街街道",
    "研和街道",
    "高仓街道",
]
ROADS = [
    "聂耳路",
    "红塔大道",
    "东风南路",
    "东风北路",
    "凤凰路",
    "玉兴路",
    "珊瑚路",
    "北苑路",
    "棋阳路",
    "抚仙路",
    "南苑路",
    "龙马路",
]
COMMUNITIES = [
    "阳光花园小区",
    "玉湖苑小区",
    "凤凰城小区",
    "金色家园小区",
    "聂耳新村",
    "春和佳园",
    "湖畔名居",
    "翠苑小区",
    "龙泉雅居",
    "锦绣华庭",
    "东湖印象小区",
    "秀山苑",
]
VILLAGES = [
    "上营村",
    "下河湾村",
    "白土坡村",
    "甸中村",
    "海门村",
    "九溪村",
    "路居村",
    "高大村",
    "龙树村",
    "新村",
]
