// GraphQL over HTTP (the response media type) and subscriptions over graphql-ws.
import { createClient } from "graphql-ws";

const TOKEN = "linkstar.accessToken";

export function token() {
  return sessionStorage.getItem(TOKEN);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN, value);
  else sessionStorage.removeItem(TOKEN);
}

export class GraphQLFailure extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join("; "));
    this.errors = errors;
    this.code = errors[0]?.extensions?.code;
  }
}

export async function gql(query, variables = {}) {
  const headers = {
    "Content-Type": "application/json",
    Accept: "application/graphql-response+json, application/json;q=0.9",
  };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const response = await fetch("/graphql", {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors?.length) throw new GraphQLFailure(body.errors);
  return body.data;
}

let client = null;

function live() {
  if (!client) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    client = createClient({
      url: `${scheme}//${location.host}/graphql`,
      connectionParams: () => ({ authorization: `Bearer ${token()}` }),
      retryAttempts: 5,
    });
  }
  return client;
}

export function closeLive() {
  client?.dispose();
  client = null;
}

// Follow a subscription; resumes after the last event seen when the socket reconnects.
export function subscribe(query, variables, onEvent) {
  let last = null;
  let stop = null;
  const start = () => {
    stop = live().subscribe(
      { query, variables: { ...variables, after: last } },
      {
        next: ({ data }) => {
          const event = data && Object.values(data)[0];
          if (!event) return;
          last = event.id;
          onEvent(event);
        },
        error: () => {},
        complete: () => {},
      },
    );
  };
  start();
  return () => stop?.();
}
