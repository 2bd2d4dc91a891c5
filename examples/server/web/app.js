// The script of the example's page: it asks the server who the browser is
// (GET /auth, then GET /groups for the principals), shows the sign-in or
// the sign-out form accordingly, and sends the requests of the "Try"
// buttons, showing each answer's status and body. It never reads the
// session cookie (HttpOnly: it cannot) and writes server text only as text.
// document.body.dataset.state tells a test where the page is: loading,
// anonymous, signed-in, rejected or error.
"use strict";

const byId = (id) => document.getElementById(id);

// call sends one request of the page, with the browser's cookies (the page
// and the API share an origin), and returns its status and body text.
async function call(method, path) {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    cache: "no-store",
    headers: { Accept: "application/json" },
  });
  return { status: res.status, text: await res.text() };
}

// parse returns the JSON of text, or null.
function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// show puts the page in state, with message as the status line.
function show(state, message) {
  document.body.dataset.state = state;
  byId("status").textContent = message;
  byId("who").hidden = state !== "signed-in";
  byId("login-form").hidden = state === "signed-in";
  byId("logout-form").hidden = state !== "signed-in" && state !== "rejected";
}

// whoami asks the server who the browser is and shows it.
async function whoami() {
  byId("userid").textContent = "";
  byId("policy").textContent = "";
  byId("principals").replaceChildren();
  byId("basic-note").hidden = true;
  let auth;
  try {
    auth = await call("GET", "/auth");
  } catch (err) {
    show("error", "The server did not answer: " + err.message);
    return;
  }
  const body = parse(auth.text) || {};
  switch (auth.status) {
    case 200:
      break;
    case 401:
      show("anonymous", body.error_description
        ? "Not signed in (the credentials were refused: " + body.error_description + ")."
        : "Not signed in.");
      return;
    case 403:
      show("rejected", "Signed in, but the group finder rejects this user (403).");
      return;
    default:
      show("error", "GET /auth answered " + auth.status + ".");
      return;
  }
  byId("userid").textContent = body.userid;
  byId("policy").textContent = body.policy || "";
  byId("basic-note").hidden = body.policy !== "basic";
  const groups = await call("GET", "/groups");
  for (const p of (parse(groups.text) || {}).principals || []) {
    const li = document.createElement("li");
    li.textContent = p;
    byId("principals").append(li);
  }
  show("signed-in", "Signed in as " + body.userid + ".");
}

// tryRoute sends the request of a "Try" button and shows its answer.
async function tryRoute(button) {
  const name = button.dataset.result;
  const status = byId("status-" + name);
  const out = byId("body-" + name);
  status.textContent = "…";
  out.textContent = "";
  try {
    const res = await call(button.dataset.method, button.dataset.path);
    status.textContent = String(res.status);
    out.textContent = res.text.trim();
  } catch (err) {
    status.textContent = "error";
    out.textContent = err.message;
  }
  status.dataset.status = status.textContent;
}

for (const button of document.querySelectorAll("button[data-method]")) {
  button.addEventListener("click", () => tryRoute(button));
}
whoami();
