"""The ``growthnav`` command line."""
