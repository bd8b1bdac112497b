"""A loopback Enhance control panel API (orchd), for the demo, tests and benchmarks.

Bearer token auth; creates answer 201 `{"id": ...}`, PATCH/DELETE 204, lists
`{"items": [...], "total": N}`, errors `{"code", "message"}`. State: the master org (the
reseller whose plans are sold) with plans (website quota), customer orgs, logins unique by
e-mail in the realm (409), members with roles, subscriptions (soft-deleted, suspended via
`suspendedBy`, `friendlyName`), websites whose server set-up finishes after `build_seconds`
(`serverIps` empty until then — the real set-up status is not in the reference), bandwidth
and SSO URLs (201 with a JSON string, or text/plain when `sso_plain`).
Faults: see `ezscale.simulators.rest`; `exhausted` refuses a subscription or website for lack of
reseller resources.

Run alone: `python -m ezscale.simulators.enhance --port 8395` (API root
`http://127.0.0.1:8395/api`).
"""

import argparse
import itertools
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from ezscale.simulators.rest import Query, RestSimulator, Result, Route, first, route, run_forever

MO_ID = "00000000-0000-4000-8000-000000000001"
PLANS = (
    (1, "Starter", 5, 10 * 1024**3),
    (2, "Business", 5, 50 * 1024**3),
    (3, "Agency", 25, 200 * 1024**3),
)
UUID = "[0-9a-f-]{36}"
API = "/api"  # the panel serves its API under https://<panel>/api


def _error(status: int, code: str, message: str) -> Result:
    return status, {"code": code, "message": message}


def _items(rows: list[dict[str, Any]]) -> Result:
    return 200, {"items": rows, "total": len(rows)}


@dataclass
class EnhanceSimulator(RestSimulator):
    """The panel's state and behaviour; `serve()` (ezscale.simulators.rest) puts it on a port."""

    access_token: str = "enhance-demo-token"
    sso_plain: bool = False
    orgs: dict[str, dict[str, Any]] = field(default_factory=dict)
    logins: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: dict[int, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[int, dict[str, Any]] = field(default_factory=dict)
    websites: dict[str, dict[str, Any]] = field(default_factory=dict)
    sso_tokens: dict[str, str] = field(default_factory=dict)  # one-time token → member id
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.orgs:
            self.orgs[MO_ID] = dict(
                id=MO_ID, parentId=None, name="Hosting Co", status="active", suspendedBy=None
            )
            for plan_id, name, websites, disk in PLANS:
                self.plans[plan_id] = dict(
                    id=plan_id,
                    name=name,
                    orgId=MO_ID,
                    planType="shared",
                    subscriptionsCount=0,
                    resources=[
                        {"name": "websites", "total": websites},
                        {"name": "diskspace", "total": disk},
                        {"name": "transfer", "total": 100 * 1024**3},
                        {"name": "mailboxes", "total": 10},
                    ],
                    serverGroupId=None,
                    serverGroupIds=[],
                    allowances=[],
                    selections=[],
                )

    # --- auth and errors ----------------------------------------------------------------------

    def authorised(self, path: str, query: Query, headers: dict[str, str]) -> Result | None:
        if path in (f"{API}/version", f"{API}/status", "/sso"):
            return None
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        return None if token == self.access_token else _error(401, "no_session_token", "Invalid session")

    def live_ids(self) -> list[str]:
        return [str(i) for i, sub in self.subscriptions.items() if sub.get("status") != "deleted"]

    def exhausted(self) -> Result:
        return _error(400, "insufficient_resources", "The reseller subscription has no resources left")

    def not_found(self) -> Result:
        return _error(404, "not_found", "Not found")

    def routes(self) -> list[Route]:
        org = f"{API}/orgs/(?P<org_id>{UUID})"
        cust = f"{org}/customers/(?P<cust_id>{UUID})"
        sub = rf"{org}/subscriptions/(?P<sub_id>\d+)"
        return [
            route("GET", "/sso", "sso_login", self._sso_login),
            route("GET", f"{API}/version", "version", lambda q, b: (200, "12.21.3")),
            route("GET", f"{API}/status", "status", lambda q, b: (200, "ready")),
            route("GET", org, "get_org", self._get_org),
            route("PATCH", org, "update_org", self._update_org),
            route("POST", f"{org}/customers", "create_customer", self._create_customer),
            route("GET", f"{org}/customers", "list_customers", self._list_customers),
            route("POST", f"{API}/logins", "create_login", self._create_login),
            route(
                "GET", f"{API}/v2/orgs/(?P<org_id>{UUID})/customers/logins", "list_logins", self._list_logins
            ),
            route("POST", f"{org}/members", "create_member", self._create_member),
            route("GET", f"{org}/members", "list_members", self._list_members),
            route("GET", f"{org}/members/(?P<member_id>{UUID})/sso", "sso", self._sso),
            route("GET", f"{org}/plans", "list_plans", self._list_plans),
            route("POST", f"{cust}/subscriptions", "create_subscription", self._create_subscription),
            route("GET", f"{cust}/subscriptions", "list_subscriptions", self._list_subscriptions),
            route("GET", sub, "get_subscription", self._get_subscription),
            route("PATCH", sub, "update_subscription", self._update_subscription),
            route("DELETE", sub, "delete_subscription", self._delete_subscription),
            route("GET", f"{sub}/bandwidth", "bandwidth", self._bandwidth),
            route("POST", f"{org}/websites", "create_website", self._create_website),
            route("GET", f"{org}/websites", "list_websites", self._list_websites),
            route("POST", f"{org}/domains/check", "check_domain", self._check_domain),
        ]

    # --- orgs, logins, members --------------------------------------------------------------

    def _org_view(self, org: dict[str, Any]) -> dict[str, Any]:
        owner = next(
            (m for m in self.members.values() if m["orgId"] == org["id"] and "Owner" in m["roles"]), None
        )
        return org | dict(
            ownerId=owner["id"] if owner else None,
            ownerEmail=owner["email"] if owner else None,
            ownerLoginId=owner["loginId"] if owner else None,
            subscriptionsCount=sum(1 for s in self.subscriptions.values() if s["subscriberId"] == org["id"]),
            websitesCount=sum(1 for w in self.websites.values() if w["orgId"] == org["id"]),
            locale="en",
        )

    def _get_org(self, query: Query, body: Any, org_id: str) -> Result:
        org = self.orgs.get(org_id)
        return (200, self._org_view(org)) if org else self.not_found()

    def _update_org(self, query: Query, body: dict[str, Any], org_id: str) -> Result:
        org = self.orgs.get(org_id)
        if org is None:
            return self.not_found()
        if "isSuspended" in body:
            org["suspendedBy"] = MO_ID if body["isSuspended"] else None
        if body.get("name"):
            org["name"] = body["name"]
        return 204, None

    def _create_customer(self, query: Query, body: dict[str, Any], org_id: str) -> Result:
        if org_id not in self.orgs:
            return self.not_found()
        if not body.get("name"):
            return _error(400, "invalid_input", "name is required")
        cust_id = str(uuid.uuid4())
        self.orgs[cust_id] = dict(
            id=cust_id, parentId=org_id, name=body["name"], status="active", suspendedBy=None
        )
        return 201, {"id": cust_id}

    def _list_customers(self, query: Query, body: Any, org_id: str) -> Result:
        rows = [self._org_view(o) for o in self.orgs.values() if o["parentId"] == org_id]
        return _items(rows)

    def _realm(self, org_id: str) -> str:
        org = self.orgs.get(org_id) or {}
        return org.get("parentId") or org_id

    def _create_login(self, query: Query, body: dict[str, Any]) -> Result:
        org_id = first(query, "orgId")
        if org_id not in self.orgs:
            return self.not_found()
        if not body.get("email") or not body.get("password") or not body.get("name"):
            return _error(400, "invalid_input", "email, password and name are required")
        realm = self._realm(org_id)
        if any(
            lg["email"].lower() == str(body["email"]).lower() and lg["realm"] == realm
            for lg in self.logins.values()
        ):
            return _error(409, "already_exists", "Already exists")
        login_id = str(uuid.uuid4())
        self.logins[login_id] = dict(id=login_id, email=body["email"], name=body["name"], realm=realm)
        return 201, {"id": login_id}

    def _list_logins(self, query: Query, body: Any, org_id: str) -> Result:
        rows = [
            dict(id=lg["id"], email=lg["email"], name=lg["name"], authMethod="password")
            for lg in self.logins.values()
            if lg["realm"] == org_id
        ]
        return _items(rows)

    def _create_member(self, query: Query, body: dict[str, Any], org_id: str) -> Result:
        login = self.logins.get(str(body.get("loginId")))
        if org_id not in self.orgs or login is None:
            return self.not_found()
        if any(m["orgId"] == org_id and m["loginId"] == login["id"] for m in self.members.values()):
            return _error(409, "already_exists", "Already exists")
        member_id = str(uuid.uuid4())
        self.members[member_id] = dict(
            id=member_id,
            orgId=org_id,
            loginId=login["id"],
            isActive=True,
            email=login["email"],
            name=login["name"],
            roles=list(body.get("roles") or []),
            siteAccesses=[],
            authMethod="password",
        )
        return 201, {"id": member_id}

    def _list_members(self, query: Query, body: Any, org_id: str) -> Result:
        if org_id not in self.orgs:
            return self.not_found()
        return _items(
            [
                {k: v for k, v in m.items() if k != "orgId"}
                for m in self.members.values()
                if m["orgId"] == org_id
            ]
        )

    def _sso(self, query: Query, body: Any, org_id: str, member_id: str) -> Result:
        member = self.members.get(member_id)
        if member is None or member["orgId"] != org_id:
            return self.not_found()
        token = secrets.token_urlsafe(24)
        self.sso_tokens[token] = member_id
        url = f"{self.public_url or 'https://panel.example.com'}/sso?token={token}"
        return 201, url.encode() if self.sso_plain else url

    def _sso_login(self, query: Query, body: Any) -> Result:
        member = self.members.get(self.sso_tokens.pop(first(query, "token"), ""))
        if member is None:
            return 403, "<html><body>This sign-in link has expired.</body></html>"
        return 200, f"<html><body><h1>Enhance</h1><p>Signed in as {member['email']}.</p></body></html>"

    # --- plans and subscriptions ------------------------------------------------------------

    def _list_plans(self, query: Query, body: Any, org_id: str) -> Result:
        return _items([p for p in self.plans.values() if p["orgId"] == org_id])

    def _sub_view(self, sub: dict[str, Any]) -> dict[str, Any]:
        plan = self.plans[sub["planId"]]
        sites = [
            w for w in self.websites.values() if w["subscriptionId"] == sub["id"] and w["status"] != "deleted"
        ]
        usage = {
            "websites": len(sites),
            "diskspace": 512 * 1024**2 * len(sites),
            "transfer": 0,
            "mailboxes": 0,
        }
        resources = [dict(r, usage=usage.get(r["name"], 0)) for r in plan["resources"]]
        return dict(sub) | dict(planName=plan["name"], resources=resources, planType="shared")

    def _create_subscription(self, query: Query, body: dict[str, Any], org_id: str, cust_id: str) -> Result:
        if org_id not in self.orgs or cust_id not in self.orgs:
            return self.not_found()
        plan_id = body.get("planId")
        plan = self.plans.get(plan_id if isinstance(plan_id, int) else -1)
        if plan is None or plan["orgId"] != org_id:
            return _error(404, "not_found", "Plan not found")
        sub_id = next(self._ids)
        self.subscriptions[sub_id] = dict(
            id=sub_id,
            planId=plan["id"],
            subscriberId=cust_id,
            vendorId=org_id,
            status="active",
            suspendedBy=None,
            friendlyName=body.get("friendlyName"),
            allowances=[],
            selections=[],
        )
        return 201, {"id": sub_id}

    def _list_subscriptions(self, query: Query, body: Any, org_id: str, cust_id: str) -> Result:
        rows = [self._sub_view(s) for s in self.subscriptions.values() if s["subscriberId"] == cust_id]
        return _items(rows)

    def _sub(self, org_id: str, sub_id: str) -> dict[str, Any] | None:
        sub = self.subscriptions.get(int(sub_id))
        return sub if sub and sub["subscriberId"] == org_id else None

    def _get_subscription(self, query: Query, body: Any, org_id: str, sub_id: str) -> Result:
        sub = self._sub(org_id, sub_id)
        return (200, self._sub_view(sub)) if sub else self.not_found()

    def _update_subscription(self, query: Query, body: dict[str, Any], org_id: str, sub_id: str) -> Result:
        sub = self._sub(org_id, sub_id)
        if sub is None:
            return self.not_found()
        if "planId" in body:
            if body["planId"] not in self.plans:
                return _error(400, "invalid_input", "Unknown plan")
            sub["planId"] = body["planId"]
        if "isSuspended" in body:
            sub["suspendedBy"] = sub["vendorId"] if body["isSuspended"] else None
        if "friendlyName" in body:
            sub["friendlyName"] = body["friendlyName"]
        return 204, None

    def _delete_subscription(self, query: Query, body: Any, org_id: str, sub_id: str) -> Result:
        sub = self._sub(org_id, sub_id)
        if sub is None or (sub["status"] == "deleted" and first(query, "force") != "true"):
            return self.not_found()
        if first(query, "force") == "true":
            del self.subscriptions[sub["id"]]
            for site_id in [k for k, w in self.websites.items() if w["subscriptionId"] == sub["id"]]:
                del self.websites[site_id]
        else:
            sub["status"] = "deleted"
            for site in self.websites.values():
                if site["subscriptionId"] == sub["id"]:
                    site["status"] = "deleted"
        return 204, None

    def _bandwidth(self, query: Query, body: Any, org_id: str, sub_id: str) -> Result:
        sub = self._sub(org_id, sub_id)
        return (200, 7_340_032) if sub else self.not_found()

    # --- websites ---------------------------------------------------------------------------

    def _site_view(self, site: dict[str, Any]) -> dict[str, Any]:
        ready = self.clock() >= site["ready_at"]
        view = {k: v for k, v in site.items() if k != "ready_at"}
        return view | dict(
            serverIps=["198.51.100.20"] if ready else [], appServerName="web1" if ready else None
        )

    def _create_website(self, query: Query, body: dict[str, Any], org_id: str) -> Result:
        if org_id not in self.orgs:
            return self.not_found()
        domain = str(body.get("domain") or "").lower()
        sub = self._sub(org_id, str(body.get("subscriptionId") or 0))
        if not domain or sub is None or sub["status"] != "active":
            return _error(400, "invalid_input", "domain and an active subscriptionId are required")
        if any(w["domain"]["domain"] == domain and w["status"] != "deleted" for w in self.websites.values()):
            return _error(409, "already_exists", "Already exists")
        quota = next(r["total"] for r in self.plans[sub["planId"]]["resources"] if r["name"] == "websites")
        used = sum(
            1 for w in self.websites.values() if w["subscriptionId"] == sub["id"] and w["status"] != "deleted"
        )
        if used >= quota:
            return _error(400, "insufficient_resources", "The subscription has no websites left")
        site_id = str(uuid.uuid4())
        self.websites[site_id] = dict(
            id=site_id,
            domain={"id": str(uuid.uuid4()), "domain": domain},
            subscriptionId=sub["id"],
            planId=sub["planId"],
            status="active",
            suspendedBy=None,
            orgId=org_id,
            ready_at=self.clock() + self.build_seconds,
        )
        return 201, {"id": site_id}

    def _check_domain(self, query: Query, body: dict[str, Any], org_id: str) -> Result:
        domain = str(body.get("domain") or "").lower()
        if not domain or "." not in domain:
            return _error(400, "invalid_input", "A domain is required")
        site = next((w for w in self.websites.values() if w["domain"]["domain"] == domain), None)
        if site is None:
            return 200, {"status": "notInUse"}
        if site["status"] == "deleted":
            return 200, {"status": "inUseDeletedSite", "websiteId": site["id"]}
        status = "inUseCurrentOrg" if site["orgId"] == org_id else "inUseAnotherOrg"
        return 200, {"status": status, "websiteId": site["id"]}

    def _list_websites(self, query: Query, body: Any, org_id: str) -> Result:
        rows = [w for w in self.websites.values() if w["orgId"] == org_id]
        if first(query, "subscriptionId"):
            rows = [w for w in rows if str(w["subscriptionId"]) == first(query, "subscriptionId")]
        return _items([self._site_view(w) for w in rows])


def main() -> None:
    """Serve the simulator on a loopback port until killed."""
    parser = argparse.ArgumentParser(description="Enhance control panel API simulator")
    parser.add_argument("--port", type=int, default=8395)
    parser.add_argument("--build-seconds", type=float, default=3.0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument(
        "--fault-rate", type=float, default=0.0, help="Share of calls given a 500 or a timeout."
    )
    parser.add_argument("--hang-seconds", type=float, default=5.0, help="How long a timeout fault hangs.")
    parser.add_argument("--access-token", default="enhance-demo-token")
    args = parser.parse_args()
    sim = EnhanceSimulator(
        build_seconds=args.build_seconds,
        latency=args.latency,
        fault_rate=args.fault_rate,
        hang_seconds=args.hang_seconds,
        access_token=args.access_token,
    )
    run_forever(sim, port=args.port, label="Enhance")


if __name__ == "__main__":
    main()
