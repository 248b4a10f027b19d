"""Social profiles: a contact's `social:` list, one `{type: NETWORK, value: ...}` per profile.

The shape is the one the vCard reader writes (X-SOCIALPROFILE, IMPP, X-TWITTER...),
so an address book's profiles and the ones added here are the same field. A profile
on a web network is kept as its canonical https URL, whatever was typed (`@anna`,
`x.com/anna`, `http://twitter.com/Anna/`); a chat network keeps its handle:

    social:
      - {type: linkedin, value: "https://www.linkedin.com/in/anna-berg"}
      - {type: x, value: "https://x.com/annaberg"}
      - {type: mastodon, value: "https://mastodon.social/@anna"}
      - {type: skype, value: anna.berg.fjordlys}

An unknown network, a URL that is not http(s) (`javascript:`, `data:`), a URL on
another site than the network's, or a handle the network does not allow is refused
with the reason; `crmkit check` reports such a profile in a file with its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crmkit.errors import CrmkitError, Problem

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


@dataclass(frozen=True)
class Network:
    hosts: tuple[str, ...]        # the sites a profile URL may be on (and their subdomains)
    handle: str                   # a regex a handle must match
    url: str                      # the canonical URL of a handle ("" for a chat network: the handle is kept)
    prefix: str = ""              # the path before the handle on the site ("in/" for LinkedIn)


NETWORKS: dict[str, Network] = {
    "linkedin": Network(("linkedin.com",), r"[A-Za-z0-9][A-Za-z0-9_%-]{1,99}", "https://www.linkedin.com/in/{}", "in/"),
    "x": Network(("x.com", "twitter.com"), r"[A-Za-z0-9_]{1,15}", "https://x.com/{}"),
    "facebook": Network(("facebook.com", "fb.com"), r"[A-Za-z0-9.]{5,50}", "https://www.facebook.com/{}"),
    "instagram": Network(("instagram.com",), r"[A-Za-z0-9._]{1,30}", "https://www.instagram.com/{}"),
    "github": Network(("github.com",), r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?", "https://github.com/{}"),
    "youtube": Network(("youtube.com",), r"[A-Za-z0-9._-]{3,30}", "https://www.youtube.com/@{}", "@"),
    "xing": Network(("xing.com",), r"[A-Za-z0-9_]{3,100}", "https://www.xing.com/profile/{}", "profile/"),
    "mastodon": Network((), r"[A-Za-z0-9_]{1,30}@[a-z0-9.-]+\.[a-z]{2,}", ""),
    # chat networks (what address books carry as IMPP and X-SKYPE...): the handle as it is
    **{name: Network((), r"[^\s<>\"]{1,200}", "") for name in
       ("skype", "jabber", "aim", "icq", "msn", "yahoo", "gtalk", "qq", "gadugadu", "telegram", "signal",
        "whatsapp", "matrix", "chat", "sip")},
}
#: Other names of a network, as address books and people write them.
ALIASES = {"twitter": "x", "x-twitter": "x", "fb": "facebook", "xmpp": "jabber", "ig": "instagram",
           "google-talk": "gtalk", "googletalk": "gtalk"}


def network_name(name: str) -> str:
    key = str(name).strip().lower()
    key = ALIASES.get(key, key)
    if key not in NETWORKS:
        raise CrmkitError(f"unknown social network {name!r} (known: {', '.join(sorted(n for n in NETWORKS))})")
    return key


def normalise(network: str, value: str) -> dict[str, str]:
    """The stored form of a profile: `{type, value}`, or CrmkitError saying why it is refused."""
    name = network_name(network)
    net = NETWORKS[name]
    text = str(value).strip()
    if not text or any(c in text for c in "\r\n\t\x00"):
        raise CrmkitError(f"{name}: an empty or multi-line profile {value!r}")
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", text)
    if scheme and scheme.group(1).lower() not in ("http", "https") and not (
            not net.url and scheme.group(1).lower() in (name, "xmpp", "sip", "skype", "aim", "icq", "msnim")):
        raise CrmkitError(f"{name}: {scheme.group(1).lower()}: links are refused; a profile is an https URL or a handle")
    if name == "mastodon":
        return {"type": name, "value": _mastodon(text)}
    if not net.url:
        return {"type": name, "value": text}
    handle = _handle(name, net, text)
    if not re.fullmatch(net.handle, handle):
        raise CrmkitError(f"{name}: {handle!r} is not a {name} handle")
    return {"type": name, "value": net.url.format(handle if name != "x" else handle.lower())}


def _handle(name: str, net: Network, text: str) -> str:
    low = text.lower().removeprefix("www.")
    if "://" not in text and "/" not in text and not any(low.startswith(h) for h in net.hosts):
        return text.lstrip("@")  # a handle, such as @anna or anna.berg
    url = urlsplit(text if "://" in text else "https://" + text)
    host = (url.hostname or "").lower()
    if not any(host == h or host.endswith("." + h) for h in net.hosts):
        raise CrmkitError(f"{name}: {text!r} is not on {' or '.join(net.hosts)}")
    path = url.path.strip("/")
    if net.prefix and path.startswith(net.prefix):
        path = path[len(net.prefix):]
    elif name == "linkedin":
        raise CrmkitError(f"linkedin: {text!r} is not a profile (linkedin.com/in/NAME)")
    return path.split("/", 1)[0].lstrip("@")


def _mastodon(text: str) -> str:
    m = re.fullmatch(r"@?([A-Za-z0-9_]{1,30})@([A-Za-z0-9.-]+\.[A-Za-z]{2,})", text)
    if m:
        return f"https://{m.group(2).lower()}/@{m.group(1)}"
    url = urlsplit(text if "://" in text else "https://" + text)
    m = re.fullmatch(r"/@([A-Za-z0-9_]{1,30})/?", url.path)
    if url.hostname and m:
        return f"https://{url.hostname.lower()}/@{m.group(1)}"
    raise CrmkitError(f"mastodon: {text!r} is neither @user@server nor https://server/@user")


def add_profile(doc: Any, network: str, value: str) -> list[str]:
    """Add (or replace) the contact's profile on `network`; returns what changed."""
    profile = normalise(network, value)
    items = doc.get("social")
    if not isinstance(items, list):
        items = doc["social"] = []
    for item in items:
        if isinstance(item, dict) and _known(item.get("type")) == profile["type"]:
            if item.get("value") == profile["value"]:
                return []
            old = item.get("value")
            item["type"], item["value"] = profile["type"], profile["value"]
            return [f"social.{profile['type']}: {old} -> {profile['value']}"]
    items.append(profile)
    return [f"social.{profile['type']} = {profile['value']}"]


def remove_profile(doc: Any, network: str) -> list[str]:
    name = network_name(network)
    items = doc.get("social") or []
    kept = [i for i in items if not (isinstance(i, dict) and _known(i.get("type")) == name)]
    if len(kept) == len(items):
        return []
    if kept:
        doc["social"] = kept
    else:
        del doc["social"]
    return [f"social.{name} removed"]


def _known(name: Any) -> str | None:
    try:
        return network_name(str(name))
    except CrmkitError:
        return None


#: check's codes that are warnings: a profile an address book brought on a network crmkit
#: does not know (kept as it came; `contact social` refuses such a network).
WARNING_CODES = {"social-network"}


def known_network(name: str) -> bool:
    key = str(name).strip().lower()
    return ALIASES.get(key, key) in NETWORKS


def check_social(ws: Workspace) -> list[Problem]:
    """`crmkit check`: every contact's profiles are on a known network and valid there."""
    problems: list[Problem] = []
    for rec in ws.records("contact"):
        items = rec.get("social")
        if not isinstance(items, list):
            continue
        for item in items:
            if not isinstance(item, dict):
                continue
            try:
                normalise(str(item.get("type") or ""), str(item.get("value") or ""))
            except CrmkitError as exc:
                from crmkit.store import yamlio

                code = "social" if known_network(str(item.get("type") or "")) or \
                    re.match(r"\s*(javascript|vbscript|data|file):", str(item.get("value") or ""), re.I) \
                    else "social-network"
                problems.append(Problem(ws.rel(rec.path), yamlio.key_lines(rec.path).get("social"),
                                        code, exc.message))
    return problems
