"""The share page's LinkedIn form: the owner logs in through the workspace's gateway, as
`enginy identity connect-linkedin --username` does — credentials, then the two-step code when
LinkedIn asks for one — and the identity is connected in the transaction that uses the link.

The gateway and its API key are the ones `enginy identity share --gateway` was given (the key waits
in the secret store under the link's name and is forgotten once the link is used or revoked). The
account waiting for its code is kept on the link's row, never in the page, so a submitted form
cannot name another account.
"""

from __future__ import annotations

from html import escape


def connect_linkedin(post):
    """Answer one LinkedIn submission of the page (`post`: cli/share_page.py's _Post)."""
    import trio

    from runtime.channels.linkedin.connect import ConnectError, check_account, solve_checkpoint, start_login
    from runtime.channels.linkedin.protocol import LinkedInError
    from runtime.secrets import SecretsError, SecretStore
    from storage.activity import iso
    from storage.identities import set_linkedin_gateway
    from storage.secret_purges import linkedin_secret_name, share_link_secret_name
    from storage.share_links import set_linkedin_pending

    link, db = post.link, post.db
    store = SecretStore.of(post.workspace)
    try:
        key = store.load(share_link_secret_name(link["id"]))
    except SecretsError:
        key = None
    if not key:
        return post.again("The workspace's LinkedIn gateway key is missing; ask for a new link.", linkedin=True)
    gateway, code_step = link["gateway_url"], post.given.get("channel") == "code"
    try:
        if code_step:
            if not link["linkedin_pending"] or not post.given.get("code"):
                return post.again("Enter the code LinkedIn sent you.", linkedin=True)
            step = trio.run(solve_checkpoint, gateway, key, link["linkedin_pending"], post.given["code"])
        else:
            step = trio.run(start_login, gateway, key, post.given.get("username", ""),
                            post.passwords.get("li_password", ""))
        if not step.connected:
            set_linkedin_pending(db, link["id"], step.account_id)
            return post.again(f"LinkedIn asks for a verification code ({step.checkpoint}): enter it below.",
                              linkedin=True, status=200)
        info = trio.run(check_account, gateway, key, step.account_id)
    except (ConnectError, LinkedInError) as exc:
        if code_step:  # a refused code: log in again for a new one
            set_linkedin_pending(db, link["id"], None)
        text = str(exc).replace("run the command again", "log in again")
        return post.again(f"{text[:1].upper()}{text[1:]} — nothing was saved.", linkedin=True)

    def connect() -> None:
        store.save(linkedin_secret_name(link["identity_id"]), key)
        set_linkedin_gateway(db, link["identity_id"], account_id=step.account_id, gateway_url=gateway,
                             premium=bool(info.premium), sales_navigator=bool(info.sales_navigator),
                             first_name=info.first_name, last_name=info.last_name,
                             linkedin_url=f"https://www.linkedin.com/in/{info.public_id}" if info.public_id else None,
                             now=iso(post.now()))

    refused = post.save(f"linkedin {step.account_id}", connect)
    if refused:
        return refused
    who = f"{info.first_name} {info.last_name}".strip() or step.account_id
    return post.done("LinkedIn connected", f"<p>LinkedIn (<strong>{escape(who)}</strong>) is connected to "
                     f"<strong>{escape(post.name)}</strong>. This link is now used up; you can close this page.</p>")
