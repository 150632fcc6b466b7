"""What many test files share: one hermetic git (``git``) and one GitHub emulator rig (``rig``)."""
