"""Import an architecture tree, look at it, change it, export it.

::

    python examples/architecture.py

Uses ``AIOZKREG_HOSTS`` (default 127.0.0.1:2181) and works in a chroot,
``/example`` below it, so the tree's absolute links (``/cms/providers``)
stay inside the example.
"""

from __future__ import annotations

import asyncio
import os

from aiozkreg import Registry

EDITED = """\
/lb : ipvs
  /pools
/cms : z4m cms
  threads = 4
  /providers
  /databases
    main -> /databases/cms
"""

ARCHITECTURE = """\
/lb : ipvs
  /pools
    /cms
      address = '1.2.3.4:80'
      providers -> /cms/providers
/cms : z4m cms
  threads = 3
  /providers
  /databases
    main -> /databases/cms
/databases
  /cms
    size = 'large'
"""


async def main() -> None:
    hosts = os.environ.get("AIOZKREG_HOSTS") or "127.0.0.1:2181"
    async with Registry(hosts) as root:
        await root.ensure_path("/example")
    async with Registry(hosts.rstrip("/") + "/example") as zk:
        print("importing the architecture")
        await zk.import_tree(ARCHITECTURE)

        # symlinks resolve to where the providers really register
        real = await zk.resolve("/lb/pools/cms/providers")
        print(f"the load balancer's providers live at {real}")

        # an edit: more threads, the cms pool gone; a dry run first, then for real
        for change in await zk.import_tree(EDITED, trim=True, dry_run=True):
            print(f"dry run: {change}")
        await zk.import_tree(EDITED, trim=True)

        print("exported:")
        print(await zk.export_tree(), end="")
    async with Registry(hosts) as root:
        await root.delete_recursive("/example")


if __name__ == "__main__":
    asyncio.run(main())
