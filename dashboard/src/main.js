import { Chart, registerables } from "chart.js";
import { closeLive, gql, GraphQLFailure, setToken, subscribe, token } from "./api.js";
import { currentLanguage, switchLanguage, t, translateStatic } from "./i18n.js";
import "./style.css";

Chart.register(...registerables);

const page = document.getElementById("page");
const charts = [];
let unsubscribe = [];
let viewer = null;

const h = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
};

const section = (title, ...body) => h("section", {}, h("h2", {}, title), ...body);
const list = (items, render) =>
  items.length ? h("ul", {}, items.map((item) => h("li", {}, render(item)))) : h("p", { class: "muted" }, t("none"));
const nodes = (connection) => connection.edges.map((e) => e.node);

function reset() {
  for (const stop of unsubscribe) stop();
  unsubscribe = [];
  for (const chart of charts.splice(0)) chart.destroy();
  page.replaceChildren();
  delete page.dataset.ready;
}

// --- the partner's page ----------------------------------------------------------------

const PARTNER = `{ viewer { provider { id legalName hasExpiredDocuments
  publicStandings { category period composite standing tier }
  scorecards(last: 20) { edges { node { categoryKey period composite standing
    metrics { metric value threshold status } } } }
  alerts(last: 10) { edges { node { id categoryKey metricKey period line value threshold createdAt } } }
  sanctions(last: 10) { edges { node { kind status categoryKey period reason } } }
  appeals(last: 10) { edges { node { categoryKey status round createdAt decidedAt } } }
  documents(first: 100) { edges { node { requirementKey filename expiresOn isExpired } } } } }
}`;

const TREND = `query($id: ID!, $category: String!, $metric: String!) {
  provider(id: $id) { metricTrend(category: $category, metric: $metric, periods: 6) { period value threshold status } } }`;

const PROVIDER_EVENTS = `subscription($after: ID) {
  providerEvents(kinds: ["alert.raised", "sanction.*", "tier.*", "scorecard.published"], after: $after) {
    id kind occurredAt payload } }`;

function latestScorecards(cards) {
  const latest = new Map();
  for (const card of cards) latest.set(card.categoryKey, card); // oldest first: the last wins
  return [...latest.values()];
}

function alertLine(alert) {
  return `${alert.metricKey ?? alert.metric} · ${alert.line} · ${t("value")} ${alert.value} / ${t("threshold")} ${alert.threshold} (${alert.period})`;
}

async function partnerPage() {
  if (!viewer) return page.append(h("p", {}, t("signInFirst")));
  const data = await gql(PARTNER);
  const provider = data.viewer?.provider;
  if (!provider) return page.append(h("p", {}, t("noProvider")));
  const cards = latestScorecards(nodes(provider.scorecards));
  page.append(h("h1", {}, provider.legalName));

  const kpis = h("div", { class: "cards" });
  for (const card of cards) {
    for (const m of card.metrics) {
      kpis.append(
        h(
          "div",
          { class: `card ${m.status.toLowerCase()}`, "data-metric": m.metric },
          h("div", { class: "label" }, `${card.categoryKey} · ${m.metric}`),
          h("div", { class: "figure" }, m.value ?? "—"),
          h("div", { class: "muted" }, `${t("threshold")} ${m.threshold} · ${m.status} · ${card.period}`),
        ),
      );
    }
  }
  page.append(section(t("kpis"), kpis));

  const trends = h("div", { class: "charts" });
  page.append(section(t("trends"), trends));
  for (const card of cards) {
    for (const m of card.metrics) {
      const canvas = h("canvas", { "data-trend": `${card.categoryKey}:${m.metric}` });
      trends.append(h("figure", {}, h("figcaption", {}, `${card.categoryKey} · ${m.metric}`), canvas));
      gql(TREND, { id: provider.id, category: card.categoryKey, metric: m.metric }).then((trend) => {
        const points = trend.provider.metricTrend;
        charts.push(
          new Chart(canvas, {
            type: "line",
            data: {
              labels: points.map((p) => p.period),
              datasets: [
                { label: t("value"), data: points.map((p) => (p.value === null ? null : Number(p.value))) },
                { label: t("threshold"), data: points.map((p) => Number(p.threshold)), borderDash: [6, 4] },
              ],
            },
            options: { animation: false, responsive: true, maintainAspectRatio: false },
          }),
        );
        canvas.dataset.values = JSON.stringify(points.map((p) => (p.value === null ? null : Number(p.value))));
      });
    }
  }

  const alerts = h("ul", { id: "alerts" }, nodes(provider.alerts).reverse().map((a) => h("li", {}, alertLine(a))));
  page.append(section(t("liveAlerts"), alerts));
  unsubscribe.push(
    subscribe(PROVIDER_EVENTS, {}, (event) => {
      const text = event.kind === "alert.raised" ? alertLine(event.payload) : `${event.kind} ${JSON.stringify(event.payload)}`;
      alerts.prepend(h("li", { class: "new", "data-kind": event.kind }, text));
    }),
  );

  page.append(
    section(
      t("tier"),
      list(provider.publicStandings, (s) => `${s.category}: ${s.tier} · ${t("standing")} ${s.standing} (${s.period})`),
    ),
  );
  page.append(
    section(t("sanctions"), list(nodes(provider.sanctions), (s) => `${s.categoryKey} · ${s.kind} · ${s.status} · ${s.reason}`)),
  );
  page.append(
    section(t("appeals"), list(nodes(provider.appeals), (a) => `${a.categoryKey} · ${a.status} · #${a.round} · ${a.createdAt.slice(0, 10)}`)),
  );
  const soon = new Date(Date.now() + 60 * 86400 * 1000).toISOString().slice(0, 10);
  const expiring = nodes(provider.documents).filter((d) => d.expiresOn && d.expiresOn <= soon);
  page.append(section(t("documents"), list(expiring, (d) => `${d.requirementKey} · ${d.filename} · ${d.expiresOn}`)));
}

// --- the operator's page ---------------------------------------------------------------

const OPERATOR = `{ providers(first: 100) { totalCount edges { node { id legalName
    publicStandings { category standing tier composite period } } } }
  applications(filter: { status: SUBMITTED }, first: 50) { totalCount edges { node { id status submittedAt
    provider { legalName } } } } }`;

const QUEUE = `subscription($after: ID) { reviewQueue(queue: APPEALS, after: $after) { id kind occurredAt payload } }`;

function counts(rows, key) {
  const found = new Map();
  for (const row of rows) found.set(row[key], (found.get(row[key]) ?? 0) + 1);
  return h("table", {}, [...found.entries()].sort().map(([k, n]) => h("tr", {}, h("td", {}, k), h("td", {}, n))));
}

async function operatorPage() {
  if (!viewer) return page.append(h("p", {}, t("signInFirst")));
  if (!["ADMIN", "REVIEWER"].includes(viewer.role)) return page.append(h("p", {}, t("staffOnly")));
  const data = await gql(OPERATOR);
  const standings = nodes(data.providers).flatMap((p) => p.publicStandings.map((s) => ({ ...s, provider: p.legalName })));
  page.append(h("h1", {}, `${t("pool")} (${data.providers.totalCount})`));
  page.append(
    h(
      "div",
      { class: "cards" },
      section(t("byCategory"), counts(standings, "category")),
      section(t("byTier"), counts(standings, "tier")),
      section(t("byStanding"), counts(standings, "standing")),
    ),
  );
  const failing = standings.filter((s) => !["EXCELLENT", "GOOD", "PASS"].includes(s.standing));
  page.append(section(t("failing"), list(failing, (s) => `${s.provider} · ${s.category} · ${s.standing} · ${s.tier}`)));
  page.append(
    section(
      t("applicationQueue"),
      list(nodes(data.applications), (a) => `${a.provider.legalName} · ${a.status} · ${(a.submittedAt ?? "").slice(0, 10)}`),
    ),
  );
  const appeals = h("ul", { id: "appeal-queue" });
  page.append(section(t("appealQueue"), appeals));
  unsubscribe.push(subscribe(QUEUE, {}, (e) => appeals.prepend(h("li", {}, `${e.kind} · ${e.occurredAt.slice(0, 16)}`))));
}

// --- the sellers' directory --------------------------------------------------------------

const DIRECTORY = `query($filter: ProviderFilter) { serviceCategories { edges { node { key name } } }
  providers(first: 50, filter: $filter) { totalCount edges { node { id legalName region marketplaces
    publicStandings { category period composite standing tier } } } } }`;

async function directoryPage() {
  const form = h(
    "form",
    { class: "filters" },
    h("input", { name: "q", placeholder: t("search") }),
    h("select", { name: "category" }, h("option", { value: "" }, t("all"))),
  );
  const results = h("div", { id: "directory" });
  page.append(h("h1", {}, t("nav.directory")), form, results);
  const render = async () => {
    const filter = {};
    if (form.q.value) filter.nameContains = form.q.value;
    if (form.category.value) filter.category = form.category.value;
    const data = await gql(DIRECTORY, { filter });
    if (form.category.options.length === 1) {
      for (const c of nodes(data.serviceCategories)) form.category.append(h("option", { value: c.key }, c.name));
    }
    results.replaceChildren(
      h(
        "table",
        {},
        h("tr", {}, h("th", {}, t("provider")), h("th", {}, t("category")), h("th", {}, t("composite")), h("th", {}, t("standing")), h("th", {}, t("tier"))),
        nodes(data.providers).flatMap((p) =>
          (p.publicStandings.length ? p.publicStandings : [{ category: "—", composite: null, standing: "—", tier: "—" }]).map((s) =>
            h("tr", {}, h("td", {}, p.legalName), h("td", {}, s.category), h("td", {}, s.composite ?? "—"), h("td", {}, s.standing), h("td", {}, s.tier)),
          ),
        ),
      ),
    );
  };
  form.addEventListener("input", () => render());
  form.addEventListener("submit", (e) => e.preventDefault());
  await render();
}

// --- shell ---------------------------------------------------------------------------------

const PAGES = { partner: partnerPage, operator: operatorPage, directory: directoryPage };

async function route() {
  reset();
  translateStatic();
  document.getElementById("lang").textContent = t("language");
  const name = location.hash.slice(1) || (viewer ? (viewer.role === "PARTNER" ? "partner" : "operator") : "directory");
  document.getElementById("signin").hidden = Boolean(viewer) || name === "directory";
  try {
    await (PAGES[name] ?? directoryPage)();
    page.dataset.ready = name;
  } catch (error) {
    if (error instanceof GraphQLFailure && error.code === "UNAUTHENTICATED") return signOut();
    page.append(h("p", { class: "error" }, error.message));
  }
}

async function loadViewer() {
  viewer = token() ? (await gql("{ viewer { email role } }").catch(() => ({ viewer: null }))).viewer : null;
  document.getElementById("who").textContent = viewer ? viewer.email : "";
  document.getElementById("logout").hidden = !viewer;
}

function signOut() {
  setToken(null);
  closeLive();
  viewer = null;
  loadViewer().then(route);
}

document.getElementById("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  try {
    const data = await gql(
      "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }",
      { email: form.email.value, password: form.password.value },
    );
    setToken(data.login.accessToken);
    document.getElementById("signin-error").textContent = "";
    await loadViewer();
    await route();
  } catch (error) {
    document.getElementById("signin-error").textContent = error.message;
  }
});
document.getElementById("logout").addEventListener("click", signOut);
document.getElementById("lang").addEventListener("click", () => {
  switchLanguage();
  route();
});
window.addEventListener("hashchange", route);
document.documentElement.lang = currentLanguage() === "zh" ? "zh-CN" : "en";
loadViewer().then(route);
