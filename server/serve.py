"""`python -m server.serve [daphne's options] asgi:application`: daphne, on uvloop.

daphne runs Twisted's asyncio reactor on an event loop it creates when `daphne.server`
is imported, from the event loop policy in force then; setting uvloop's policy first
gives Twisted (and every consumer) uvloop's loop instead of asyncio's own. The rest
is daphne's command line as it is. Measured in docs/performance.md ("Stop 26"): a
reconnect storm's CPU per client about a fifth lower, connecting about a tenth.
"""

import asyncio

import uvloop


def main() -> None:
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    from daphne.cli import CommandLineInterface

    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
