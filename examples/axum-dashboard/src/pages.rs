//! Server-rendered HTML. Every page loads clerk-js and `@clerk/ui` through the `/__clerk`
//! proxy (so clerk-js keeps `__session` fresh); the sign-in page mounts `<SignIn/>` and the
//! home page `<UserButton/>`. Everything interpolated is escaped.

use crate::proxy::PROXY_PATH;
use crate::tasks::Task;
use concierge_sdk::client::{OrganizationInvitation, OrganizationMembership, User};

/// HTML-escapes text for element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page shell: title, body, and a script run once `Clerk.load()` succeeded.
pub fn layout(publishable_key: &str, title: &str, body: &str, script: &str) -> String {
    let key = escape(publishable_key);
    let title = escape(title);
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} · axum-dashboard</title>
<link rel="icon" href="data:,">
<style>body{{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}}nav a{{margin-right:1rem}}</style>
<script>
  window.__bundles = {{}};
  for (const name of ['clerk', 'ui']) {{
    let ok, fail;
    const promise = new Promise((a, b) => {{ ok = a; fail = b; }});
    window.__bundles[name] = {{ promise, ok, fail }};
  }}
</script>
<script async crossorigin="anonymous" data-clerk-publishable-key="{key}" data-clerk-proxy-url="{PROXY_PATH}"
  src="{PROXY_PATH}/npm/@clerk/clerk-js@6/dist/clerk.browser.js"
  onload="window.__bundles.clerk.ok()" onerror="window.__bundles.clerk.fail(new Error('clerk-js did not load'))"></script>
<script async crossorigin="anonymous" src="{PROXY_PATH}/npm/@clerk/ui@1/dist/ui.browser.js"
  onload="window.__bundles.ui.ok()" onerror="window.__bundles.ui.fail(new Error('@clerk/ui did not load'))"></script>
</head>
<body>
<nav><a href="/">Home</a><a href="/sign-in">Sign in</a></nav>
<h1>{title}</h1>
<p><small>clerk: <span data-testid="clerk-status">loading</span></small></p>
{body}
<script type="module">
  const status = document.querySelector('[data-testid=clerk-status]');
  try {{
    await Promise.all([window.__bundles.clerk.promise, window.__bundles.ui.promise]);
    await window.Clerk.load({{
      ui: {{ ClerkUI: window.__internal_ClerkUICtor }},
      signInUrl: '/sign-in',
      signInFallbackRedirectUrl: '/',
      afterSignOutUrl: '/',
    }});
    status.textContent = 'loaded';
    {script}
  }} catch (err) {{
    status.textContent = 'error: ' + (err && err.message);
    window.__clerkLoadError = String((err && err.stack) || err);
  }}
</script>
</body>
</html>"#
    )
}

/// `/sign-in`: `<SignIn/>` with path routing; lands on `/` afterwards.
pub fn sign_in(publishable_key: &str) -> String {
    layout(
        publishable_key,
        "Sign in",
        r#"<div id="sign-in"></div>"#,
        "window.Clerk.mountSignIn(document.getElementById('sign-in'), { routing: 'path', path: '/sign-in' });",
    )
}

/// `/`: who is signed in (from `current_user()`) and their organizations.
pub fn home(
    publishable_key: &str,
    user: Option<&User>,
    memberships: &[OrganizationMembership],
) -> String {
    let body = match user {
        None => r#"<p>status: <span data-testid="auth-status">signed-out</span></p>
<p><a href="/sign-in">Sign in</a> to see your organizations.</p>"#
            .to_owned(),
        Some(user) => {
            let orgs: String = memberships
                .iter()
                .filter_map(|m| {
                    let slug = m.organization.slug.as_deref()?;
                    Some(format!(
                        r#"<li data-testid="org"><a href="/orgs/{slug}/tasks">{name}</a> ({role})</li>"#,
                        slug = escape(slug),
                        name = escape(&m.organization.name),
                        role = escape(&m.role),
                    ))
                })
                .collect();
            format!(
                r#"<p>status: <span data-testid="auth-status">signed-in</span></p>
<p>signed in as <span data-testid="user-email">{email}</span> (<span data-testid="user-id">{id}</span>)</p>
<div id="user-button"></div>
<h2>Your organizations</h2>
<ul>{orgs}</ul>"#,
                email = escape(user.primary_email_address().unwrap_or_default()),
                id = escape(&user.id),
            )
        }
    };
    let script = if user.is_some() {
        "window.Clerk.mountUserButton(document.getElementById('user-button'));"
    } else {
        ""
    };
    layout(publishable_key, "Dashboard", &body, script)
}

/// `/orgs/:slug/tasks`.
pub fn tasks(publishable_key: &str, slug: &str, role: &str, email: &str, tasks: &[Task]) -> String {
    let items: String = tasks
        .iter()
        .map(|t| {
            format!(
                r#"<li data-testid="task" data-id="{}"><span data-testid="task-title">{}</span> <small>by {}</small></li>"#,
                t.id,
                escape(&t.title),
                escape(&t.created_by)
            )
        })
        .collect();
    let slug = escape(slug);
    let body = format!(
        r#"<p>organization: <span data-testid="org-slug">{slug}</span>, role <span data-testid="org-role">{role}</span>, signed in as <span data-testid="user-email">{email}</span></p>
<p><a href="/orgs/{slug}/admin">Admin</a></p>
<ul data-testid="tasks">{items}</ul>
<p data-testid="task-count">{count}</p>
<form method="post" action="/orgs/{slug}/tasks">
  <input name="title" aria-label="New task" required maxlength="200">
  <button type="submit">Add task</button>
</form>"#,
        role = escape(role),
        email = escape(email),
        count = tasks.len(),
    );
    layout(publishable_key, &format!("Tasks of {slug}"), &body, "")
}

/// `/orgs/:slug/admin`: members, pending invitations and an invitation form.
pub fn admin(
    publishable_key: &str,
    slug: &str,
    members: &[OrganizationMembership],
    invitations: &[OrganizationInvitation],
) -> String {
    let members: String = members
        .iter()
        .map(|m| {
            format!(
                r#"<li data-testid="member">{} — {}</li>"#,
                escape(&m.public_user_data.identifier),
                escape(&m.role)
            )
        })
        .collect();
    let invitations: String = invitations
        .iter()
        .map(|i| {
            format!(
                r#"<li data-testid="invitation">{} — {}</li>"#,
                escape(&i.email_address),
                escape(&i.role)
            )
        })
        .collect();
    let slug = escape(slug);
    let body = format!(
        r#"<p>organization: <span data-testid="org-slug">{slug}</span></p>
<h2>Members</h2><ul>{members}</ul>
<h2>Pending invitations</h2><ul>{invitations}</ul>
<form id="invite"><input name="email_address" type="email" aria-label="Email address" required>
<select name="role" aria-label="Role"><option>org:member</option><option>org:admin</option></select>
<button type="submit">Invite</button></form>
<p data-testid="invite-result"></p>
<script>
document.getElementById('invite').addEventListener('submit', async (event) => {{
  event.preventDefault();
  const form = new FormData(event.target);
  const res = await fetch('/orgs/{slug}/invite', {{
    method: 'POST', headers: {{ 'content-type': 'application/json' }},
    body: JSON.stringify({{ email_address: form.get('email_address'), role: form.get('role') }}),
  }});
  document.querySelector('[data-testid=invite-result]').textContent = res.status + ' ' + (await res.text());
}});
</script>"#
    );
    layout(publishable_key, &format!("Admin of {slug}"), &body, "")
}

/// A short page for refusals (401 signed out, 404 not a member).
pub fn message(publishable_key: &str, title: &str, text: &str) -> String {
    let body = format!(
        r#"<p data-testid="message">{}</p><p><a href="/sign-in">Sign in</a></p>"#,
        escape(text)
    );
    layout(publishable_key, title, &body, "")
}
