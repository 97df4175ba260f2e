"""The providers' HTTP APIs (Messenger Graph, Viber partner, Nexmo SMS) behind the send contract of ``domain.sending``."""
