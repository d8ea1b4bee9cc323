"""舆情简报: daily (日报), weekly (周报) and on-demand briefings as a Word document and an HTML page.

- :mod:`.period`  the span in the desk's time zone (``[desk] timezone``) and the schedule's due periods
- :mod:`.facts`   what the briefing says, gathered from the post store and the state database
- :mod:`.text`    its sentences and table rows in Chinese (shared by both renderers)
- :mod:`.charts`  volume and sentiment charts as PNG (Pillow)
- :mod:`.word`    the .docx (python-docx); :mod:`.html` the self-contained page and the mail's body
- :mod:`.mail`    recipients and the outbox payload; :mod:`.desk` making, keeping, mailing, the schedule
- :mod:`.service` the app part: the desk and its schedule job (``[briefings]``)
"""

from .desk import BriefingDesk
from .period import Period

__all__ = ["BriefingDesk", "Period"]
