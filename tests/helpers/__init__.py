"""What many test files share: one hermetic git (``git``), one GitHub emulator rig (``rig``)
and golden files (``golden``)."""
