"""The Secretariat's reports: status, statistics, friction, export, the cycle report."""
