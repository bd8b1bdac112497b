"""A separate process for the trial race test: its own interpreter and database engine.

    python -m tests.services.billing.trial_worker TENANT_ID CLOCK USER_ID PLAN_CODE

It prints "ready", waits for a line on stdin (so that both racers start at once), orders the plan
for the customer as the order page does and prints one JSON line: {"trial": true|false}.
"""

import json
import sys
from datetime import datetime

from ezscale import clock


def main(tenant_id: int, at: str, user_id: int, plan_code: str) -> dict:
    from ezscale.services.billing import orders
    from ezscale.services.tenancy.tenants import tenant_info, tenant_session

    clock.set_clock(clock.FrozenClock(datetime.fromisoformat(at)))
    tenant = tenant_info(tenant_id)
    with tenant_session(tenant) as session:
        session.connection()  # connected before the start signal
        print("ready", flush=True)
        sys.stdin.readline()
        order = orders.place_order(session, tenant=tenant, user_id=user_id, plan_code=plan_code)
        return {"trial": order.trial}


if __name__ == "__main__":
    result = main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4])
    print(json.dumps(result), flush=True)
