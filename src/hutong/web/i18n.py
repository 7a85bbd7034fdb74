"""Page translations: zh-CN (default) and English, and how a request picks its language.

Domain terms (共享属性, 无条件共享, 安全级别 …) are legal vocabulary: English pages show the
English term followed by the Chinese one, so a reader can match them to the regulations.
"""

from __future__ import annotations

from markupsafe import Markup, escape

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANG_COOKIE = "hutong_lang"
LANG_QUERY = "lang"
HTML_LANG = {"zh": "zh-CN", "en": "en"}

TRANSLATIONS: dict[str, dict[str, str]] = {
    # punctuation differs between the languages
    "p.colon": {"zh": "：", "en": ": "},
    "p.list_sep": {"zh": "、", "en": ", "},
    # layout
    "nav.skip": {"zh": "跳到正文", "en": "Skip to content"},
    "nav.label": {"zh": "主导航", "en": "Main navigation"},
    "nav.home": {"zh": "首页", "en": "Home"},
    "nav.catalog": {"zh": "资源目录", "en": "Catalog"},
    "nav.terms": {"zh": "共享条款", "en": "Sharing terms"},
    "nav.api": {"zh": "接口文档", "en": "API documentation"},
    "nav.language": {"zh": "语言", "en": "Language"},
    "nav.my_data_uses": {"zh": "我的数据使用记录", "en": "My data uses"},
    "nav.audit": {"zh": "审计日志", "en": "Audit log"},
    "nav.audit_stats": {"zh": "调用统计", "en": "Usage statistics"},
    "account.login": {"zh": "登录", "en": "Log in"},
    "account.logout": {"zh": "退出", "en": "Log out"},
    "account.signed_in_as": {"zh": "当前用户", "en": "Signed in as"},
    "account.roles": {"zh": "角色", "en": "Roles"},
    "footer.about": {
        "zh": "互通 hutong：公共数据共享平台开源软件",
        "en": "hutong 互通: open-source software for sharing public data",
    },
    "footer.open_data": {"zh": "机器可读目录", "en": "Machine-readable catalog"},
    # roles
    "role.operator": {"zh": "平台管理", "en": "Operator"},
    "role.steward": {"zh": "数源单位", "en": "Data steward"},
    "role.consumer": {"zh": "用数单位", "en": "Data consumer"},
    "role.auditor": {"zh": "监督", "en": "Auditor"},
    "role.citizen": {"zh": "数据主体", "en": "Data subject"},
    # home
    "home.title": {"zh": "首页", "en": "Home"},
    "home.lead": {
        "zh": "以共享为原则、不共享为例外：按应用场景申请，安全、可审计地使用公共数据。",
        "en": "Sharing is the principle, not sharing the exception: apply per application "
        "scenario and use public data safely, with every call audited.",
    },
    "home.search_label": {"zh": "搜索公共数据资源", "en": "Search public data resources"},
    "home.search_placeholder": {
        "zh": "资源名称、摘要、提供方、信息项……",
        "en": "Name, abstract, provider, field …",
    },
    "home.counts": {"zh": "平台概况", "en": "At a glance"},
    "home.resources": {"zh": "数据资源", "en": "Resources"},
    "home.organizations": {"zh": "注册单位", "en": "Organizations"},
    "home.hosted": {"zh": "托管数据表", "en": "Hosted tables"},
    "home.base_catalogs": {"zh": "基础库", "en": "Base catalogs"},
    "home.recent": {"zh": "最近更新的资源", "en": "Recently updated resources"},
    "home.links": {"zh": "更多入口", "en": "More"},
    "home.all_resources": {"zh": "浏览全部资源", "en": "Browse all resources"},
    "home.empty": {"zh": "目录中还没有资源。", "en": "The catalog has no resources yet."},
    # search
    "search.title": {"zh": "资源目录", "en": "Catalog"},
    "search.q": {"zh": "关键词", "en": "Keywords"},
    "search.submit": {"zh": "搜索", "en": "Search"},
    "search.sort": {"zh": "排序", "en": "Sort by"},
    "search.apply": {"zh": "应用", "en": "Apply"},
    "search.filters": {"zh": "筛选", "en": "Filters"},
    "search.active_filters": {"zh": "已选条件", "en": "Active filters"},
    "search.remove_filter": {"zh": "移除条件", "en": "Remove filter"},
    "search.clear": {"zh": "清除全部条件", "en": "Clear all"},
    "search.results": {"zh": "检索结果", "en": "Results"},
    "search.total": {"zh": "共 {total} 条", "en": "{total} found"},
    "search.range": {
        "zh": "第 {first}–{last} 条，共 {total} 条",
        "en": "{first}–{last} of {total}",
    },
    "search.none": {
        "zh": "没有符合条件的资源。请换个关键词或减少筛选条件。",
        "en": "No resource matches. Try other words or fewer filters.",
    },
    "search.prev": {"zh": "上一页", "en": "Previous"},
    "search.next": {"zh": "下一页", "en": "Next"},
    "search.pages": {"zh": "分页", "en": "Pages"},
    "search.hosted_only": {"zh": "仅托管数据", "en": "Hosted data only"},
    "sort.updated_desc": {"zh": "最近更新", "en": "Recently updated"},
    "sort.updated_asc": {"zh": "最早更新", "en": "Least recently updated"},
    "sort.name_asc": {"zh": "名称（升序）", "en": "Name (A–Z)"},
    "sort.name_desc": {"zh": "名称（降序）", "en": "Name (Z–A)"},
    "sort.code_asc": {"zh": "资源代码", "en": "Resource code"},
    "sort.created_desc": {"zh": "最新发布", "en": "Newest"},
    # catalog fields (政务信息资源目录编制指南)
    "f.classification": {"zh": "信息资源分类", "en": "Classification"},
    "f.name": {"zh": "资源名称", "en": "Resource name"},
    "f.code": {"zh": "资源代码", "en": "Resource code"},
    "f.id": {"zh": "资源标识", "en": "Resource identifier"},
    "f.provider": {"zh": "提供方", "en": "Provider"},
    "f.provider_code": {"zh": "提供方代码", "en": "Provider code (USCC)"},
    "f.abstract": {"zh": "摘要", "en": "Abstract"},
    "f.format": {"zh": "格式", "en": "Format"},
    "f.fields": {"zh": "信息项", "en": "Fields"},
    "f.sharing": {"zh": "共享属性", "en": "Sharing attribute"},
    "f.sharing_condition": {"zh": "共享条件", "en": "Sharing condition"},
    "f.sharing_method": {"zh": "共享方式", "en": "Sharing method"},
    "f.opening": {"zh": "开放属性", "en": "Open attribute"},
    "f.open_condition": {"zh": "开放条件", "en": "Open condition"},
    "f.reason": {"zh": "理由", "en": "Reason"},
    "f.legal_basis": {"zh": "法律依据", "en": "Legal basis"},
    "f.grade": {"zh": "安全级别", "en": "Security grade"},
    "f.update_cycle": {"zh": "更新周期", "en": "Update cycle"},
    "f.published_on": {"zh": "发布日期", "en": "Publication date"},
    "f.related": {"zh": "关联资源代码", "en": "Related resources"},
    "f.base_catalog": {"zh": "基础库", "en": "Base catalog"},
    "f.keywords": {"zh": "关键词", "en": "Keywords"},
    "f.node": {"zh": "所属节点", "en": "Node"},
    "f.version": {"zh": "版本", "en": "Version"},
    "f.created_at": {"zh": "登记时间", "en": "Registered"},
    "f.updated_at": {"zh": "目录更新时间", "en": "Metadata updated"},
    "f.hosted": {"zh": "平台托管", "en": "Hosted on the platform"},
    "f.row_count": {"zh": "数据行数", "en": "Rows"},
    "f.data_updated_at": {"zh": "数据更新时间", "en": "Data updated"},
    "field.name": {"zh": "字段名", "en": "Name"},
    "field.label": {"zh": "中文名称", "en": "Label"},
    "field.type": {"zh": "数据类型", "en": "Data type"},
    "field.length": {"zh": "长度", "en": "Length"},
    "field.key": {"zh": "主键", "en": "Key"},
    "field.pi": {"zh": "个人信息类别", "en": "Personal-information category"},
    "field.description": {"zh": "说明", "en": "Description"},
    "field.is_key": {"zh": "是", "en": "yes"},
    # attribute values (DOMAIN.md)
    "sharing.unconditional": {"zh": "无条件共享", "en": "Unconditional sharing"},
    "sharing.conditional": {"zh": "有条件共享", "en": "Conditional sharing"},
    "sharing.none": {"zh": "不予共享", "en": "Not shared"},
    "opening.open": {"zh": "无条件开放", "en": "Open"},
    "opening.conditional": {"zh": "有条件开放", "en": "Conditionally open"},
    "opening.closed": {"zh": "非开放", "en": "Not open"},
    "grade.general": {"zh": "一般", "en": "General"},
    "grade.important": {"zh": "重要", "en": "Important"},
    "grade.core": {"zh": "核心", "en": "Core"},
    "update_cycle.realtime": {"zh": "实时", "en": "Real-time"},
    "update_cycle.daily": {"zh": "每日", "en": "Daily"},
    "update_cycle.weekly": {"zh": "每周", "en": "Weekly"},
    "update_cycle.monthly": {"zh": "每月", "en": "Monthly"},
    "update_cycle.quarterly": {"zh": "每季度", "en": "Quarterly"},
    "update_cycle.yearly": {"zh": "每年", "en": "Yearly"},
    "update_cycle.irregular": {"zh": "不定期", "en": "Irregular"},
    "base_catalog.population": {"zh": "人口基础库", "en": "Population"},
    "base_catalog.legal_person": {"zh": "法人基础库", "en": "Legal persons"},
    "base_catalog.geography": {
        "zh": "自然资源和空间地理基础库",
        "en": "Natural resources and geography",
    },
    "base_catalog.social_credit": {"zh": "社会信用基础库", "en": "Social credit"},
    "base_catalog.e_licence": {"zh": "电子证照基础库", "en": "E-licences"},
    "base_catalog.health": {"zh": "卫生健康", "en": "Health"},
    "method.interface": {"zh": "接口", "en": "API"},
    "method.bulk": {"zh": "库表/文件", "en": "Bulk (tables, files)"},
    "method.both": {"zh": "接口和库表", "en": "API and bulk"},
    "pi.resident_id": {"zh": "居民身份证号", "en": "Resident ID number"},
    "pi.uscc": {"zh": "统一社会信用代码", "en": "Unified social credit code"},
    "pi.mobile": {"zh": "手机号码", "en": "Mobile number"},
    "pi.bank_card": {"zh": "银行卡号", "en": "Bank card number"},
    "pi.email": {"zh": "电子邮箱", "en": "E-mail"},
    "pi.plate": {"zh": "车牌号", "en": "Licence plate"},
    "pi.name": {"zh": "姓名", "en": "Personal name"},
    "pi.address": {"zh": "地址", "en": "Address"},
    "type.string": {"zh": "字符串", "en": "Text"},
    "type.integer": {"zh": "整数", "en": "Integer"},
    "type.decimal": {"zh": "小数", "en": "Decimal"},
    "type.boolean": {"zh": "布尔", "en": "Boolean"},
    "type.date": {"zh": "日期", "en": "Date"},
    "type.datetime": {"zh": "日期时间", "en": "Date and time"},
    "facet.provider": {"zh": "提供方", "en": "Provider"},
    "facet.classification": {"zh": "信息资源分类", "en": "Classification"},
    "facet.sharing": {"zh": "共享属性", "en": "Sharing attribute"},
    "facet.opening": {"zh": "开放属性", "en": "Open attribute"},
    "facet.grade": {"zh": "安全级别", "en": "Security grade"},
    "facet.base_catalog": {"zh": "基础库", "en": "Base catalog"},
    "facet.hosted": {"zh": "平台托管", "en": "Hosted"},
    # resource page
    "resource.metadata": {"zh": "目录信息", "en": "Catalog metadata"},
    "resource.attributes": {"zh": "共享与开放", "en": "Sharing and opening"},
    "resource.data": {"zh": "托管数据", "en": "Hosted data"},
    "resource.links": {"zh": "其他格式与接口", "en": "Other formats and APIs"},
    "resource.dcat": {"zh": "DCAT 元数据（Turtle）", "en": "DCAT metadata (Turtle)"},
    "resource.dcat_jsonld": {"zh": "DCAT 元数据（JSON-LD）", "en": "DCAT metadata (JSON-LD)"},
    "resource.json": {"zh": "JSON 接口", "en": "JSON API"},
    "resource.history": {"zh": "版本历史", "en": "Version history"},
    "resource.other_node": {"zh": "其他节点或未登记", "en": "on another node or not registered"},
    "resource.not_hosted": {"zh": "未托管在本平台", "en": "Not hosted on this platform"},
    "resource.no_data_yet": {"zh": "尚未加载数据", "en": "No data loaded yet"},
    "resource.terms_note": {
        "zh": "非开放数据仅限按批准的应用场景使用，不得再传播。",
        "en": "Data that is not open may be used only for the approved scenario and may "
        "not be redistributed.",
    },
    "resource.none": {"zh": "无", "en": "none"},
    "resource.yes": {"zh": "是", "en": "yes"},
    "resource.no": {"zh": "否", "en": "no"},
    "versions.title": {"zh": "版本历史", "en": "Version history"},
    "versions.version": {"zh": "版本", "en": "Version"},
    "versions.when": {"zh": "时间", "en": "When"},
    "versions.actor": {"zh": "操作者", "en": "By"},
    "versions.note": {"zh": "说明", "en": "Note"},
    "versions.back": {"zh": "返回资源", "en": "Back to the resource"},
    # login
    "login.title": {"zh": "登录", "en": "Log in"},
    "login.username": {"zh": "用户名", "en": "User name"},
    "login.password": {"zh": "密码", "en": "Password"},
    "login.submit": {"zh": "登录", "en": "Log in"},
    "login.error": {
        "zh": "用户名或密码错误，请重新输入。",
        "en": "Wrong user name or password. Please try again.",
    },
    "login.already": {"zh": "您已登录为", "en": "You are logged in as"},
    # sharing terms
    "terms.title": {"zh": "公共数据共享条款", "en": "Public data sharing terms"},
    "terms.principle.title": {"zh": "共享原则", "en": "The principle"},
    "terms.principle": {
        "zh": "公共数据以共享为原则、不共享为例外。列为有条件共享或不予共享的资源，"
        "提供方须在目录中写明理由和法律依据。",
        "en": "Public data is shared as a rule; not sharing is the exception. A provider that "
        "lists a resource as conditionally shared or not shared must record the reason and "
        "the legal basis in the catalog.",
    },
    "terms.scenario.title": {"zh": "按应用场景申请", "en": "Apply per application scenario"},
    "terms.scenario": {
        "zh": "有条件共享的资源须由用数单位按应用场景逐一申请，经平台审核和提供方同意后，"
        "在批准的场景、信息项和期限内使用；场景改变须重新申请。",
        "en": "A conditionally shared resource is used only after the consuming department "
        "applies for a specific application scenario and the operator and the provider "
        "approve it; it may then be used for that scenario, those fields and that period "
        "only. A new scenario needs a new application.",
    },
    "terms.redistribution.title": {"zh": "不得再传播", "en": "No redistribution"},
    "terms.redistribution": {
        "zh": "非开放的数据不得向第三方提供、公开或再传播；个人信息按最小必要原则使用并脱敏。",
        "en": "Data that is not open may not be passed on, published or redistributed; "
        "personal information is used only as far as necessary, and masked.",
    },
    "terms.audit.title": {"zh": "审计与监督", "en": "Audit and supervision"},
    "terms.audit": {
        "zh": "每一次数据调用都记入防篡改的审计日志，数据主体可以查询谁因何使用了其数据。",
        "en": "Every data call is recorded in a tamper-evident audit log; a data subject can "
        "see who used their data and why.",
    },
    "terms.open_licence": {
        "zh": "无条件开放的资源另按其开放许可使用。",
        "en": "Resources that are open are used under their open licence instead.",
    },
    # audit pages: a citizen's data uses
    "uses.title": {"zh": "我的数据使用记录", "en": "How my data was used"},
    "uses.lead": {
        "zh": "这里列出各部门每一次使用您个人数据的记录：何时、哪个单位、哪项数据资源和信息项、"
        "出于哪个应用场景和用途。",
        "en": "Every time a department used data about you: when, which organization, which "
        "resource and fields, and for which application scenario and purpose.",
    },
    "uses.confidential": {
        "zh": "依法需要保密的应用场景（如案件侦查）中的使用记录，"
        "在该场景的公开日期之后才会在这里显示。",
        "en": "Uses under a confidential scenario (such as a criminal investigation) appear "
        "here only after that scenario's disclosure date.",
    },
    "uses.unverified.title": {"zh": "尚未核验身份", "en": "Identity not yet verified"},
    "uses.unverified": {
        "zh": "您的账号尚未完成实名身份核验，平台还无法把数据使用记录与您本人对应。"
        "请联系平台管理部门完成身份核验后再查看。",
        "en": "Your account has no verified identity yet, so the platform cannot match data "
        "uses to you. Ask the platform operator to verify your identity, then come back.",
    },
    "uses.time": {"zh": "时间（北京时间）", "en": "Time (Beijing time, UTC+8)"},
    "uses.organization": {"zh": "使用单位", "en": "Organization"},
    "uses.resource": {"zh": "数据资源", "en": "Resource"},
    "uses.scenario": {"zh": "应用场景", "en": "Application scenario"},
    "uses.purpose": {"zh": "用途", "en": "Purpose"},
    "uses.action": {"zh": "使用方式", "en": "Kind of use"},
    "uses.proof": {"zh": "存证", "en": "Proof"},
    "uses.proof_link": {"zh": "包含性证明", "en": "Inclusion proof"},
    "uses.proof_note": {
        "zh": "每条记录都写入防篡改的审计日志。“包含性证明”链接给出该记录在已签名检查点中的"
        "默克尔证明（JSON），在下一个检查点签署后即可获取。",
        "en": "Each use is written to the tamper-evident audit log. The inclusion-proof link "
        "gives the entry's Merkle proof in a signed checkpoint (JSON), available once the "
        "next checkpoint is signed.",
    },
    "uses.none": {
        "zh": "还没有使用您数据的记录。",
        "en": "No use of your data has been recorded.",
    },
    "uses.no_scenario": {"zh": "未关联场景", "en": "no scenario"},
    "action.data.query": {"zh": "查询", "en": "Query"},
    "action.data.lookup": {"zh": "按标识查询", "en": "Lookup by key"},
    "action.data.export": {"zh": "导出", "en": "Export"},
    "action.data.verify": {"zh": "核验", "en": "Verification"},
    "action.data.bulk": {"zh": "批量交换", "en": "Bulk transfer"},
    # audit pages: the log
    "audit.title": {"zh": "审计日志", "en": "Audit log"},
    "audit.lead": {
        "zh": "每一次状态变更和数据调用都按顺序写入只可追加的审计日志，本节点定期为日志签署检查点。"
        "平台管理和监督部门可查看全部记录；数源单位和用数单位可查看本单位的调用和对本单位资源的使用。",
        "en": "Every change and every data call is appended, in order, to the audit log, and "
        "this node signs checkpoints of it. Operators and auditors see every entry; stewards "
        "and consumers see their organization's calls and the uses of its resources.",
    },
    "audit.entries": {"zh": "审计记录", "en": "Entries"},
    "audit.range": {
        "zh": "第 {first}–{last} 条（从新到旧）",
        "en": "{first}–{last}, newest first",
    },
    "audit.action": {"zh": "操作", "en": "Action"},
    "audit.resource": {"zh": "资源标识", "en": "Resource identifier"},
    "audit.only_resource": {"zh": "只看此资源", "en": "only this resource"},
    "audit.index": {"zh": "序号", "en": "Index"},
    "audit.outcome": {"zh": "结果", "en": "Outcome"},
    "audit.actor_org": {"zh": "操作单位", "en": "Organization"},
    "audit.records": {"zh": "记录数", "en": "Records"},
    "audit.links": {"zh": "详情", "en": "Details"},
    "audit.none": {"zh": "没有符合条件的审计记录。", "en": "No audit entry matches."},
    "audit.checkpoint": {"zh": "最新签名检查点", "en": "Latest signed checkpoint"},
    "audit.tree_size": {"zh": "日志条数（树大小）", "en": "Entries (tree size)"},
    "audit.root": {"zh": "根哈希", "en": "Root hash"},
    "audit.checkpoint_time": {"zh": "签署时间（北京时间）", "en": "Signed at (Beijing time)"},
    "audit.note": {"zh": "签名文本", "en": "Signed note"},
    "audit.no_checkpoint": {
        "zh": "尚未签署检查点；新记录写入后几秒内会自动签署。",
        "en": "No checkpoint has been signed yet; one is signed a few seconds after new "
        "entries arrive.",
    },
    "audit.vkey": {"zh": "验证公钥", "en": "Verifier key"},
    "audit.checkpoint_json": {"zh": "检查点（JSON）", "en": "Checkpoint (JSON)"},
    "audit.vkey_json": {"zh": "验证公钥（JSON）", "en": "Verifier key (JSON)"},
    "audit.verify.title": {"zh": "如何验证", "en": "How to verify"},
    "audit.verify.note": {
        "zh": "检查点是 C2SP 格式的签名文本：来源、日志条数和根哈希，后附本节点的 Ed25519 签名，"
        "可用上面的验证公钥核对。",
        "en": "A checkpoint is a C2SP signed note: origin, tree size and root hash, followed by "
        "this node's Ed25519 signature, which the verifier key above checks.",
    },
    "audit.verify.export": {
        "zh": "由节点管理员导出完整日志及其签名检查点：",
        "en": "The node's operator exports the whole log with its signed checkpoints:",
    },
    "audit.verify.offline": {
        "zh": "在任意一台电脑上离线验证导出文件：重算每一条记录，核对每一个签名检查点。",
        "en": "Verify the export offline on any computer: it recomputes every entry and checks "
        "every signed checkpoint.",
    },
    "audit.verify.proofs": {
        "zh": "单条记录的包含性证明、两个检查点之间的一致性证明可从接口获取：",
        "en": "Inclusion proofs of single entries and consistency proofs between two "
        "checkpoints come from the API:",
    },
    # audit pages: statistics
    "stats.title": {"zh": "调用统计", "en": "Usage statistics"},
    "stats.lead": {
        "zh": "跨部门数据调用的次数和交付的记录数，来自审计日志的汇总。"
        "平台管理和监督部门看到全节点；其他单位看到本单位的调用和对本单位资源的使用。",
        "en": "Data calls between departments and the records delivered, summed from the "
        "audit log. Operators and auditors see the whole node; other organizations see their "
        "own calls and the uses of their resources.",
    },
    "stats.totals": {"zh": "合计", "en": "Totals"},
    "stats.total": {"zh": "合计", "en": "Total"},
    "stats.total_calls": {"zh": "数据调用次数", "en": "Data calls"},
    "stats.total_records": {"zh": "交付记录数", "en": "Records delivered"},
    "stats.group_by": {"zh": "分组方式", "en": "Group by"},
    "stats.group.organization": {"zh": "按单位", "en": "By organization"},
    "stats.group.resource": {"zh": "按数据资源", "en": "By resource"},
    "stats.group.scenario": {"zh": "按应用场景", "en": "By application scenario"},
    "stats.group.day": {"zh": "按日期", "en": "By day"},
    "stats.key.organization": {"zh": "调用单位", "en": "Calling organization"},
    "stats.key.resource": {"zh": "数据资源", "en": "Resource"},
    "stats.key.scenario": {"zh": "应用场景", "en": "Application scenario"},
    "stats.key.day": {"zh": "日期（UTC）", "en": "Day (UTC)"},
    "stats.calls": {"zh": "调用次数", "en": "Calls"},
    "stats.records": {"zh": "记录数", "en": "Records"},
    "stats.since": {"zh": "起始日期", "en": "From"},
    "stats.until": {"zh": "截止日期", "en": "To"},
    "stats.daily": {"zh": "每日调用次数", "en": "Calls per day"},
    "stats.chart_desc": {
        "zh": "{first} 至 {last}，单日最多 {max} 次调用",
        "en": "{first} to {last}; at most {max} calls in a day",
    },
    "stats.bar": {
        "zh": "{day}：{calls} 次调用，{records} 条记录",
        "en": "{day}: calls {calls}, records {records}",
    },
    "stats.day_note": {
        "zh": "日期按协调世界时（UTC）划分。",
        "en": "Days are counted in UTC.",
    },
    "stats.table": {"zh": "按日数据表", "en": "Daily figures as a table"},
    "stats.none": {"zh": "所选范围内没有数据调用。", "en": "No data call in this range."},
    # quality supervision (质量监督)
    "quality.report.node": {
        "zh": "数据质量评估报告（全平台）",
        "en": "Data quality report: whole node",
    },
    "quality.report.provider": {
        "zh": "数据质量评估报告（数源单位）",
        "en": "Data quality report: provider",
    },
    "quality.report.resource": {
        "zh": "数据质量评估报告（资源）",
        "en": "Data quality report: resource",
    },
    "quality.generated": {"zh": "生成时间", "en": "Generated"},
    "quality.score": {"zh": "质量得分", "en": "Quality score"},
    "quality.no_score": {"zh": "暂无评分", "en": "not scored yet"},
    "quality.by_dimension": {"zh": "各维度得分", "en": "Score per dimension"},
    "quality.by_resource": {"zh": "各资源得分", "en": "Score per resource"},
    "quality.trend": {"zh": "得分趋势", "en": "Score trend"},
    "quality.ranking": {"zh": "数源单位排名", "en": "Provider ranking"},
    "quality.provider": {"zh": "数源单位", "en": "Provider"},
    "quality.resource": {"zh": "资源", "en": "Resource"},
    "quality.resources": {"zh": "资源", "en": "Resources"},
    "quality.objections_filed": {"zh": "异议数", "en": "Objections"},
    "quality.objections_confirmed": {"zh": "异议属实", "en": "Confirmed"},
    "quality.objections_overdue": {"zh": "逾期率", "en": "Overdue"},
    "quality.objection_days": {"zh": "平均处理天数", "en": "Days to decision"},
    "quality.rows": {"zh": "记录数", "en": "Rows"},
    "quality.none": {"zh": "尚无质量评估结果。", "en": "No quality evaluation yet."},
    "quality.rules": {"zh": "规则检查结果", "en": "Rule results"},
    "quality.rule": {"zh": "规则", "en": "Rule"},
    "quality.dimension": {"zh": "维度", "en": "Dimension"},
    "quality.indicator": {"zh": "指标", "en": "Indicator"},
    "quality.checked": {"zh": "检查数", "en": "Checked"},
    "quality.failed": {"zh": "不合格数", "en": "Failed"},
    "quality.alerts": {"zh": "质量告警", "en": "Quality alerts"},
    "quality.alert.score_below": {"zh": "得分低于阈值", "en": "Score below threshold"},
    "quality.alert.update_missed": {"zh": "未按更新周期更新", "en": "Missed its update cycle"},
    "quality.dim.conformity": {"zh": "规范性", "en": "Conformity"},
    "quality.dim.completeness": {"zh": "完整性", "en": "Completeness"},
    "quality.dim.accuracy": {"zh": "准确性", "en": "Accuracy"},
    "quality.dim.consistency": {"zh": "一致性", "en": "Consistency"},
    "quality.dim.timeliness": {"zh": "时效性", "en": "Timeliness"},
    "quality.dim.accessibility": {"zh": "可访问性", "en": "Accessibility"},
    "quality.ind.data_standard": {"zh": "数据标准", "en": "Data standard"},
    "quality.ind.data_model": {"zh": "数据模型", "en": "Data model"},
    "quality.ind.business_rules": {"zh": "业务规则", "en": "Business rules"},
    "quality.ind.reference_data": {"zh": "权威参考数据", "en": "Authoritative reference data"},
    "quality.ind.element_completeness": {"zh": "数据元素完整性", "en": "Element completeness"},
    "quality.ind.record_completeness": {"zh": "数据记录完整性", "en": "Record completeness"},
    "quality.ind.content_correctness": {"zh": "数据内容正确性", "en": "Content correctness"},
    "quality.ind.format_compliance": {"zh": "数据格式合规性", "en": "Format compliance"},
    "quality.ind.duplicate_rate": {"zh": "数据重复率", "en": "Duplicate rate"},
    "quality.ind.uniqueness": {"zh": "数据唯一性", "en": "Uniqueness"},
    "quality.ind.dirty_data_rate": {"zh": "脏数据出现率", "en": "Dirty-data rate"},
    "quality.ind.objections": {"zh": "已确认异议", "en": "Confirmed objections"},
    "quality.ind.same_data_consistency": {"zh": "相同数据一致性", "en": "Same-data consistency"},
    "quality.ind.related_data_consistency": {
        "zh": "关联数据一致性",
        "en": "Related-data consistency",
    },
    "quality.ind.period_correctness": {"zh": "基于时间段的正确性", "en": "Correct for its period"},
    "quality.ind.timely_update": {"zh": "基于时间点的及时性", "en": "Timely at its point in time"},
    "quality.ind.time_order": {"zh": "时序性", "en": "Ordered in time"},
    "quality.ind.reachable": {"zh": "可访问", "en": "Reachable"},
    "quality.ind.usable": {"zh": "可用", "en": "Usable"},
    # errors
    "error.title": {"zh": "出错了", "en": "Something went wrong"},
    "error.400": {"zh": "请求有误", "en": "Bad request"},
    "error.401": {"zh": "需要登录", "en": "Login required"},
    "error.403": {"zh": "无权访问", "en": "Forbidden"},
    "error.404": {"zh": "未找到", "en": "Not found"},
    "error.409": {"zh": "冲突", "en": "Conflict"},
    "error.413": {"zh": "内容过大", "en": "Content too large"},
    "error.422": {"zh": "参数无效", "en": "Invalid input"},
    "error.500": {"zh": "服务器错误", "en": "Server error"},
    "error.status": {"zh": "状态码", "en": "Status"},
    "error.detail": {"zh": "详细信息", "en": "Details"},
    "error.csrf": {
        "zh": "表单已过期或来源无法验证，请刷新页面后重新提交。",
        "en": "The form has expired or its origin could not be verified. "
        "Reload the page and submit it again.",
    },
    "error.back_home": {"zh": "返回首页", "en": "Back to the home page"},
    "error.to_catalog": {"zh": "浏览资源目录", "en": "Browse the catalog"},
}


def translate(key: str, lang: str) -> str:
    """The text of ``key`` in ``lang``, else in Chinese, else the key itself."""
    entry = TRANSLATIONS.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry.get(DEFAULT_LANGUAGE) or key


def term(key: str, lang: str) -> Markup:
    """A domain term: Chinese on Chinese pages; English followed by the Chinese term on English
    pages (marked ``lang="zh-CN"`` for screen readers)."""
    zh = translate(key, DEFAULT_LANGUAGE)
    if lang == DEFAULT_LANGUAGE or key not in TRANSLATIONS:
        return escape(zh)
    return Markup('{} <span class="zh-term" lang="zh-CN">{}</span>').format(
        translate(key, lang), zh
    )


def _from_accept_language(header: str) -> str | None:
    """The first supported language in an Accept-Language header, by quality."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else None


def choose_language(
    *, query: str | None, cookie: str | None, accept_language: str | None
) -> tuple[str, bool]:
    """The page language, and whether it was chosen now (so the cookie should remember it).

    Order: ``?lang=``, the ``hutong_lang`` cookie, Accept-Language, then zh-CN.
    """
    if query in LANGUAGES:
        return query, query != cookie
    if cookie in LANGUAGES:
        return cookie, False
    return _from_accept_language(accept_language or "") or DEFAULT_LANGUAGE, False
