// Labels in English and Chinese; the choice is kept in localStorage.
export const LABELS = {
  en: {
    "nav.partner": "My provider",
    "nav.operator": "Operations",
    "nav.directory": "Sellers' directory",
    signIn: "Sign in",
    signOut: "Sign out",
    email: "Email",
    password: "Password",
    language: "中文",
    kpis: "KPIs against the platform's thresholds",
    trends: "Trends",
    liveAlerts: "Alerts (live)",
    sanctions: "Sanctions",
    tier: "Tier",
    appeals: "Appeals",
    documents: "Documents expiring within 60 days",
    none: "None",
    threshold: "threshold",
    value: "value",
    pool: "Provider pool",
    byCategory: "By category",
    byTier: "By tier",
    byStanding: "By standing",
    failing: "Failing or on the ladder",
    applicationQueue: "Applications waiting for review",
    appealQueue: "Appeals (live)",
    search: "Search by name",
    category: "Category",
    all: "All",
    provider: "Provider",
    standing: "Standing",
    composite: "Score",
    period: "Period",
    noProvider: "This account belongs to no provider.",
    staffOnly: "Operations are for platform staff.",
    signInFirst: "Sign in to see this page.",
    status: "Status",
  },
  zh: {
    "nav.partner": "我的服务商",
    "nav.operator": "运营看板",
    "nav.directory": "卖家服务商目录",
    signIn: "登录",
    signOut: "退出",
    email: "邮箱",
    password: "密码",
    language: "English",
    kpis: "KPI 与平台门槛对比",
    trends: "趋势",
    liveAlerts: "预警（实时）",
    sanctions: "处罚",
    tier: "合作等级",
    appeals: "申诉",
    documents: "60 天内到期的资料",
    none: "无",
    threshold: "门槛",
    value: "数值",
    pool: "服务商池",
    byCategory: "按合作类型",
    byTier: "按等级",
    byStanding: "按考核结果",
    failing: "未达标或处于处罚阶梯",
    applicationQueue: "待审核的入驻申请",
    appealQueue: "申诉（实时）",
    search: "按名称搜索",
    category: "合作类型",
    all: "全部",
    provider: "服务商",
    standing: "考核结果",
    composite: "得分",
    period: "周期",
    noProvider: "该账号不属于任何服务商。",
    staffOnly: "运营看板仅供平台员工使用。",
    signInFirst: "请先登录。",
    status: "状态",
  },
};

let language = localStorage.getItem("linkstar.lang") || "en";

export function t(key) {
  return LABELS[language][key] ?? key;
}

export function currentLanguage() {
  return language;
}

export function switchLanguage() {
  language = language === "en" ? "zh" : "en";
  localStorage.setItem("linkstar.lang", language);
  document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
}

export function translateStatic(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
}
