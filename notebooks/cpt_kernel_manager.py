"""Starts the Java kernel for headless runs (notebooks/run) and lets it settle before the first request.

rapaio-jupyter-kernel 3.0.1 binds its sockets before its message handlers exist; a kernel_info_request
that arrives in between kills its shell thread (NullPointerException in Channels.getHandler) and the
kernel never answers. nbclient sends that request at once, so a start fails now and then. Waiting a
few seconds after the launch (CPT_KERNEL_SETTLE_SECONDS, default 5) lets the kernel finish starting.
"""
import asyncio
import os

from jupyter_client.manager import AsyncKernelManager


class SettlingKernelManager(AsyncKernelManager):
    async def post_start_kernel(self, **kw):
        await AsyncKernelManager.post_start_kernel(self, **kw)
        await asyncio.sleep(float(os.environ.get("CPT_KERNEL_SETTLE_SECONDS", "5")))
