"""PartRM bridge simulation worker for Isaac Gym (Preview 4).

Dials the bridge's WebSocket server (``partrm policy train ... --sim listen:PORT``), takes
simulation tasks (a URDF bundle + joint + task + policy or training budget), runs them in Isaac Gym
and answers with progress and results. See isaac/README.md.
"""

__version__ = "0.1.0"
