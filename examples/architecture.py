"""Import an architecture tree, look at it, change it, export it.

::

    python examples/architecture.py

Uses ``AIOZKREG_HOSTS``, or a throwaway ZooKeeper when it is not set, and works in a chroot,
``/example`` below it, so the tree's absolute links (``/cms/providers``)
stay inside the example.
"""

from __future__ import annotations

import asyncio

from _zookeeper import command_line, zookeeper

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
    async with zookeeper() as hosts:
        await _main(hosts)


async def _main(hosts: str) -> None:
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
    command_line(__doc__).parse_args()
    asyncio.run(main())
