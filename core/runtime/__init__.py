"""The runtime shell: the ASGI app, the CLI, migrations and the demo. The only part of the
core that may import `linkstar.schema`.
"""
