import { html, type SafeHtml } from './html.js';

/** Who is looking at the page: enough for the navigation bar. */
export interface Viewer {
  username: string | undefined;
}

/** Every page: the same head (style.css), logo and navigation around its own content. */
export function layout(title: string, viewer: Viewer, content: SafeHtml): string {
  const account = viewer.username
    ? html`<form method="post" action="/logout" class="inline">
        <span class="user">Signed in as <strong>${viewer.username}</strong></span>
        <button type="submit">Log out</button>
      </form>`
    : html`<a href="/login">Log in</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title} · koa-qsession example</title>
  <link rel="stylesheet" href="/style.css">
</head>
<body>
  <header>
    <a href="/" class="brand"><img src="/logo.svg" alt="koa-qsession logo" width="40" height="40"> koa-qsession</a>
    <nav><a href="/">Home</a> <a href="/counter">Counter</a> <a href="/session">Session</a> ${account}</nav>
  </header>
  <main>
    <h1>${title}</h1>
    ${content}
  </main>
</body>
</html>
`.value;
}

export function homePage(viewer: Viewer): string {
  const content = viewer.username
    ? html`<p class="greeting">Welcome back!</p>
      <p>You are logged in as <strong>${viewer.username}</strong>. Your session lives in the store; the
      cookie only holds its id.</p>`
    : html`<p class="greeting">Welcome anonymous!</p>
      <p>Browsing anonymously stores nothing and sets no cookie. <a href="/login">Log in</a> to start a session.</p>`;
  return layout('Home', viewer, content);
}

export function loginPage(viewer: Viewer, error?: string, username = ''): string {
  return layout('Log in', viewer, html`
    <p class="hint">Demo credentials: any non-empty username, with the password <code>secret</code>.</p>
    ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
    <form method="post" action="/login" class="card">
      <label>Username <input name="username" autocomplete="username" value="${username}" required></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
      <button type="submit">Log in</button>
    </form>`);
}

export function logoutPage(viewer: Viewer): string {
  return layout('Log out', viewer, viewer.username
    ? html`<form method="post" action="/logout" class="card"><button type="submit">Log out</button></form>`
    : html`<p>You are not logged in.</p>`);
}

export function counterPage(viewer: Viewer, visits: number): string {
  return layout('Counter', viewer, html`<p class="counter">Visits: ${visits}</p>
    <p>Each visit to this page writes the session (explicit mode: the handler calls <code>session.dirty()</code>).</p>`);
}

/** What the session holds. Only the id's first 8 characters: the full id is a bearer credential. */
export function sessionPage(viewer: Viewer, idPrefix: string | undefined, data: Record<string, unknown>): string {
  return layout('Session', viewer, idPrefix === undefined
    ? html`<p>No session: nothing is stored for you and you hold no session cookie.</p>`
    : html`<dl class="card">
        <dt>Session id</dt><dd><code class="session-id">${idPrefix}…</code> (first 8 characters)</dd>
        <dt>Data</dt><dd><pre class="session-data">${JSON.stringify(data, null, 2)}</pre></dd>
      </dl>`);
}

export function notFoundPage(viewer: Viewer): string {
  return layout('Not found', viewer, html`<p>Nothing here. <a href="/">Home</a></p>`);
}
