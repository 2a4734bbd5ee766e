"""Hand-written material for ``manage.py seed_demo``.

Articles are put together from these pieces by a seeded ``random.Random``, so the same
seed always gives the same blog. Titles and slugs depend only on the article's position,
never on the seed, so re-running with another seed updates the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# --- Taxonomy -------------------------------------------------------------------------
# (slug, name, parent slug, order, description)
CATEGORIES = [
    ("programming", "Programming", None, 10, "Languages, libraries and the craft of writing code."),
    ("python", "Python", "programming", 11, "Python and Django, from the ORM to asyncio."),
    ("web", "Web", "programming", 12, "Browsers, HTTP, CSS and JavaScript."),
    ("devops", "DevOps", None, 20, "Containers, proxies, deployments and the night shift."),
    ("databases", "Databases", "devops", 21, "MySQL, MariaDB, SQLite and Redis in production."),
    ("tools", "Tools", None, 30, "Editors, shells and small utilities that save time."),
    ("essays", "随笔", None, 40, "生活、旅行与一些不那么技术的想法。"),
    ("reading", "读书", None, 50, "读书笔记与书评。"),
]

# (slug, name)
TAGS = [
    ("python", "python"),
    ("django", "django"),
    ("javascript", "javascript"),
    ("go", "go"),
    ("rust", "rust"),
    ("docker", "docker"),
    ("kubernetes", "kubernetes"),
    ("mysql", "mysql"),
    ("redis", "redis"),
    ("linux", "linux"),
    ("nginx", "nginx"),
    ("performance", "performance"),
    ("testing", "testing"),
    ("celery", "celery"),
    ("markdown", "markdown"),
    ("git", "git"),
    ("css", "css"),
    ("reading-notes", "读书笔记"),
    ("travel", "旅行"),
    ("photography", "摄影"),
    ("productivity", "效率"),
    ("open-source", "开源"),
]


@dataclass(frozen=True)
class Topic:
    title: str
    category: str
    tags: tuple[str, ...]
    code: str  # the main code language
    subject: str  # dropped into the paragraphs
    source: str = "original"
    source_url: str = ""
    extra: tuple[str, ...] = field(default=())  # more code languages to pick from


EN_TOPICS = [
    # The first English topic is the pinned feature tour, written out in full below.
    Topic("A tour of Markdown on this blog", "tools", ("markdown",), "python", "Markdown"),
    Topic(
        "Profiling a slow Django view with the ORM in mind",
        "python",
        ("django", "python", "performance"),
        "python",
        "the Django ORM",
        extra=("sql",),
    ),
    Topic(
        "Why our cache keys carry a generation number",
        "web",
        ("redis", "django", "performance"),
        "python",
        "versioned cache keys",
        extra=("bash",),
    ),
    Topic(
        "Taming Celery retries without double work",
        "python",
        ("celery", "python", "redis"),
        "python",
        "Celery",
    ),
    Topic("Reading EXPLAIN output in MariaDB", "databases", ("mysql", "performance"), "sql", "EXPLAIN"),
    Topic(
        "Zero-downtime migrations on a busy table",
        "databases",
        ("mysql", "django"),
        "sql",
        "online schema changes",
        extra=("python",),
    ),
    Topic(
        "A small Go service that never drops a request",
        "programming",
        ("go", "performance"),
        "go",
        "graceful shutdown",
    ),
    Topic(
        "Rust error handling for Python programmers",
        "programming",
        ("rust", "python"),
        "rust",
        "Result and the ? operator",
        extra=("python",),
    ),
    Topic(
        "Writing tests that fail for the right reason", "python", ("testing", "python"), "python", "pytest"
    ),
    Topic(
        "Docker images under 100 MB for a Django app",
        "devops",
        ("docker", "django"),
        "dockerfile",
        "multi-stage builds",
        extra=("bash",),
    ),
    Topic(
        "nginx least_conn versus round robin", "devops", ("nginx", "performance"), "nginx", "load balancing"
    ),
    Topic(
        "Falsehoods programmers believe about time zones",
        "programming",
        ("python",),
        "python",
        "time zones",
        source="reprint",
        source_url="https://example.com/essays/falsehoods-about-time-zones",
    ),
    Topic("What I learned running Redis in production", "databases", ("redis", "linux"), "bash", "Redis"),
    Topic(
        "Debouncing and throttling in plain JavaScript",
        "web",
        ("javascript",),
        "javascript",
        "event handlers",
    ),
    Topic(
        "CSS for dark mode that respects the reader",
        "web",
        ("css",),
        "css",
        "prefers-color-scheme",
        extra=("html",),
    ),
    Topic("Shell one-liners I keep coming back to", "tools", ("linux",), "bash", "the shell"),
    Topic(
        "Kubernetes readiness probes, explained with failures",
        "devops",
        ("kubernetes", "docker"),
        "yaml",
        "readiness probes",
    ),
    Topic("Type hints that pay for themselves", "python", ("python", "testing"), "python", "type hints"),
    Topic(
        "Full-text search for Chinese without Elasticsearch",
        "databases",
        ("mysql", "python"),
        "sql",
        "Chinese search",
        extra=("python",),
    ),
    Topic("Git habits for a tidy history", "tools", ("git",), "bash", "git rebase"),
    Topic(
        "The Twelve-Factor App, ten years on",
        "devops",
        ("docker", "open-source"),
        "bash",
        "twelve-factor apps",
        source="translation",
        source_url="https://example.org/posts/twelve-factor-ten-years-on",
    ),
    Topic(
        "Structured logging in Python", "python", ("python",), "python", "structured logs", extra=("json",)
    ),
    Topic("HTTP caching headers in practice", "web", ("nginx", "performance"), "http", "Cache-Control"),
    Topic(
        "SQLite is enough for more than you think", "databases", ("python", "performance"), "sql", "SQLite"
    ),
    Topic("Measuring before optimising", "programming", ("performance",), "python", "benchmarks"),
]

ZH_TOPICS = [
    Topic(
        "用 Django 写一个博客：从模型到缓存",
        "python",
        ("django", "python"),
        "python",
        "Django 的缓存",
        extra=("html",),
    ),
    Topic("Redis 持久化：RDB 与 AOF 怎么选", "databases", ("redis",), "bash", "Redis 持久化"),
    Topic("MySQL 索引失效的十种情况", "databases", ("mysql", "performance"), "sql", "MySQL 索引"),
    Topic("Celery 定时任务踩坑记录", "python", ("celery", "python"), "python", "Celery beat"),
    Topic("Docker 多阶段构建实践", "devops", ("docker",), "dockerfile", "多阶段构建"),
    Topic("Nginx 反向代理与负载均衡配置笔记", "devops", ("nginx",), "nginx", "Nginx 反向代理"),
    Topic("Go 并发模型入门：goroutine 与 channel", "programming", ("go",), "go", "goroutine"),
    Topic("Rust 所有权，一篇就够", "programming", ("rust",), "rust", "所有权与借用"),
    Topic("前端性能优化清单", "web", ("javascript", "performance"), "javascript", "前端性能", extra=("css",)),
    Topic("Linux 常用排障命令", "tools", ("linux",), "bash", "线上排障"),
    Topic("写给新人的 Git 工作流", "tools", ("git",), "bash", "Git 工作流"),
    Topic("单元测试该测什么", "python", ("testing", "python"), "python", "单元测试"),
    Topic(
        "Kubernetes 上线前的检查清单",
        "devops",
        ("kubernetes",),
        "yaml",
        "Kubernetes 部署",
        source="reprint",
        source_url="https://example.com/zh/k8s-launch-checklist",
    ),
    Topic(
        "中文全文搜索的几种做法", "databases", ("mysql", "python"), "sql", "中文分词与搜索", extra=("python",)
    ),
    Topic(
        "一次线上内存泄漏的排查", "python", ("python", "performance"), "python", "内存泄漏", extra=("bash",)
    ),
    Topic("读《人月神话》", "reading", ("reading-notes",), "python", "《人月神话》"),
    Topic("读《代码整洁之道》笔记", "reading", ("reading-notes",), "python", "代码整洁"),
    Topic("周末骑行去了趟西湖", "essays", ("travel", "photography"), "bash", "骑行"),
    Topic("我的效率工具清单", "tools", ("productivity",), "bash", "效率工具"),
    Topic("在家搭一个小型 NAS", "essays", ("linux",), "bash", "家用 NAS", extra=("yaml",)),
    Topic(
        "把博客迁移到 MariaDB 的记录",
        "databases",
        ("mysql", "django"),
        "sql",
        "数据库迁移",
        extra=("python",),
    ),
    Topic("HTTP 缓存头详解", "web", ("nginx", "performance"), "http", "HTTP 缓存"),
    Topic("Python 类型注解实战", "python", ("python",), "python", "类型注解"),
    Topic(
        "开源项目维护者的一天（译）",
        "essays",
        ("open-source",),
        "bash",
        "开源维护",
        source="translation",
        source_url="https://example.org/posts/a-day-in-the-life-of-a-maintainer",
    ),
    Topic("asyncio 入门：从事件循环说起", "python", ("python",), "python", "asyncio"),
]

# --- Paragraphs -----------------------------------------------------------------------
EN_INTROS = [
    "I first ran into {subject} on a Friday afternoon, which is the worst possible time to learn "
    "that something you rely on behaves differently from what you assumed. This is the write-up "
    "I wish I had read beforehand.",
    "Most of what is written about {subject} is either a five-line snippet or a conference talk. "
    "This post sits in between: enough detail to act on, short enough to read with a coffee.",
    "A reader asked me last month how we handle {subject} on this blog. The honest answer was "
    "“badly, until recently”, so here is what changed and why.",
    "There is a moment in every project when {subject} stops being a detail and becomes the "
    "thing everyone talks about in the stand-up. We reached that moment in March.",
]

EN_PARAGRAPHS = [
    "The first thing to do was to measure. Guessing is cheap and feels productive, but every "
    "time I skipped the measurement I ended up optimising the wrong thing. A single run of the "
    "profiler showed that more than half of the time went somewhere I had not even looked.",
    "It helps to write down what “fast enough” means before touching any code. For us it was "
    "simple: a warm page in under twenty milliseconds on the server, and no more than two "
    "queries. Anything beyond that was a regression, however clever it looked.",
    "The fix itself was small, which is usually a good sign. The hard part was convincing "
    "ourselves that it was correct under concurrency, so we wrote a test that runs two workers "
    "against the same database and checks that nothing is counted twice.",
    "One caveat: this works because our writes are rare and our reads are many. If your "
    "workload is the other way round, the trade-off flips and you may be better off with "
    "something simpler.",
    "We rolled it out behind a setting first, watched the graphs for a day, and then turned it "
    "on everywhere. Nothing exciting happened, which is exactly what you want from a deploy.",
    "Looking back, the most useful change was not technical at all. We started writing down "
    "why each decision was made, next to the code, so the next person does not have to "
    "rediscover it at two in the morning.",
    "If you take one thing from this post, let it be this: make the slow path visible. A log "
    "line, a metric or a failing test is worth more than any amount of tribal knowledge.",
    "A colleague pointed out that {subject} has sharp edges around time zones and daylight "
    "saving. She was right, and the test suite now runs with the clock set to the last Sunday "
    "of October.",
    "None of this is new. What surprised me was how much of it we had forgotten since the last "
    "time, and how quickly a small project grows the same problems as a big one.",
    "The numbers below come from a laptop, not a server, so read them as relative rather than "
    "absolute. The shape of the curve is what matters.",
    "There are libraries that do all of this for you, and for a larger team they are probably "
    "the right choice. For a blog run by one person, fifty lines of code that I understand "
    "beat a dependency that I do not.",
    "I also tried the obvious alternative first. It worked on my machine, fell over in staging, "
    "and taught me more about {subject} than any documentation had.",
]

EN_HEADINGS = [
    "Background",
    "The problem",
    "What we tried first",
    "Measuring it",
    "The fix",
    "Trade-offs",
    "In production",
    "What I would do differently",
]
EN_CLOSING_HEADINGS = ["Wrapping up", "Conclusion", "Further reading", "Summary"]
EN_CLOSINGS = [
    "That is all there is to it. If you spot a mistake, the comments are open below.",
    "I will follow up with the numbers after a month in production. Until then, measure twice.",
    "Thanks to everyone who read a draft of this post and told me which parts were confusing.",
]
EN_LIST_ITEMS = [
    "Measure before and after every change",
    "Keep the slow path visible in logs",
    "Write the test before the fix",
    "Prefer boring technology",
    "Document why, not what",
    "Roll out behind a setting",
    "Keep a rollback plan",
    "Read the error message twice",
]
EN_TASKS = [
    "Add a regression test",
    "Update the runbook",
    "Remove the old code path",
    "Announce the change to the team",
    "Check the dashboards after a week",
]
EN_QUOTES = [
    "Premature optimisation is the root of all evil. — Donald Knuth",
    "Make it work, make it right, make it fast. — Kent Beck",
    "There are only two hard things in computer science: cache invalidation and naming things."
    " — Phil Karlton",
]
EN_FOOTNOTES = [
    "The exact numbers vary with the hardware; the ratio between them does not.",
    "This was before we upgraded to the current LTS release.",
    "Yes, I know. It seemed like a good idea at the time.",
]

ZH_INTROS = [
    "最近在项目里又碰到了{subject}的问题，翻了一圈资料，发现网上的文章要么太浅，要么太旧。索性把这次的经验整理一下，"
    "也方便以后自己查阅。",
    "很多人对{subject}的印象还停留在几年前。这篇文章试着从实际出发，讲清楚它能做什么、不能做什么。",
    "上周有读者留言问我{subject}到底怎么用比较好。三言两语说不清楚，干脆写成一篇文章。",
    "{subject}这个话题说大不大，说小也不小。踩过几次坑之后，我总结了一些自己的做法，供大家参考。",
]

ZH_PARAGRAPHS = [
    "第一步永远是测量。凭感觉优化很容易，但十次里有八次会优化错地方。跑一遍性能分析之后才发现，"
    "一半以上的时间花在了一个我根本没注意到的地方。",
    "动手之前，先写下“够快”的标准。对我们来说很简单：缓存命中时服务端二十毫秒以内，SQL 查询不超过两条。"
    "超过这个标准就算退化，不管代码写得多漂亮。",
    "真正的改动其实很小，这通常是个好兆头。难的是证明它在并发下也是对的，所以我们写了一个测试，"
    "让两个进程同时写同一个数据库，检查计数有没有重复。",
    "需要说明的是，这个方案成立的前提是写少读多。如果你的场景正好相反，取舍也会反过来，用更简单的办法可能更合适。",
    "上线时我们先加了一个开关，观察了一天监控曲线，然后才全面打开。整个过程平平无奇——这正是上线应有的样子。",
    "回头看，最有价值的改变其实不是技术上的。我们开始在代码旁边写下每个决定的原因，"
    "这样下一个人就不用在凌晨两点重新踩一遍坑。",
    "如果这篇文章只能记住一句话，那就是：让慢的路径可见。一行日志、一个指标或者一个失败的测试，"
    "都比口口相传的经验可靠得多。",
    "同事提醒我，{subject}在时区和夏令时上有不少坑。她说得对，现在我们的测试会把时钟拨到十月的最后一个星期天再跑一遍。",
    "这些道理都不新鲜。让我意外的是，上次踩过的坑这么快就忘了，而一个小项目也会很快长出大项目的毛病。",
    "下面的数据是在笔记本上跑的，不是服务器，所以只看相对值就好，重要的是曲线的形状。",
    "市面上有现成的库能把这些事都做了，团队大的话用它们可能更合适。但对一个人维护的博客来说，"
    "五十行自己看得懂的代码，胜过一个看不懂的依赖。🙂",
    "其实我一开始也试了最直接的做法：本地跑得好好的，到了预发环境就出问题。不过也正是这次失败，"
    "让我对{subject}的理解比看任何文档都深。",
]

ZH_HEADINGS = [
    "背景",
    "问题出在哪里",
    "第一次尝试",
    "先量一量",
    "解决方案",
    "取舍",
    "上线之后",
    "如果重来一次",
]
ZH_CLOSING_HEADINGS = ["小结", "总结", "延伸阅读", "写在最后"]
ZH_CLOSINGS = [
    "以上就是全部内容。如果发现错误，欢迎在下面留言指出。",
    "一个月后我会再补充一下线上的数据。在那之前，先量再改。",
    "感谢读过初稿并指出哪里没讲清楚的朋友们。",
]
ZH_LIST_ITEMS = [
    "每次改动前后都要测量",
    "让慢的路径在日志里可见",
    "先写测试，再修 bug",
    "优先选择成熟、无聊的技术",
    "文档写“为什么”，而不是“是什么”",
    "用开关灰度上线",
    "随时准备好回滚方案",
    "把错误信息读两遍",
]
ZH_TASKS = ["补一个回归测试", "更新运维手册", "删掉旧的代码路径", "通知团队", "一周后再看一眼监控"]
ZH_QUOTES = [
    "过早优化是万恶之源。——高德纳",
    "先让它能用，再让它正确，最后让它变快。——Kent Beck",
    "计算机科学里只有两件难事：缓存失效和命名。——Phil Karlton",
]
ZH_FOOTNOTES = [
    "具体数字和硬件有关，但比例基本不变。",
    "这是升级到当前 LTS 版本之前的情况。",
    "我知道，当时觉得这是个好主意。",
]

# --- Code -----------------------------------------------------------------------------
CODE = {
    "python": [
        """from django.db.models import Prefetch

def article_list(request):
    articles = (
        Article.objects.published()
        .select_related("category")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("name", "slug")))
    )
    return render(request, "articles/list.html", {"articles": articles[:20]})""",
        """import time
from contextlib import contextmanager

@contextmanager
def timer(label: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        elapsed = (time.perf_counter() - start) * 1000
        print(f"{label}: {elapsed:.1f} ms")""",
        """@shared_task(bind=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def send_digest(self, user_id: int) -> None:
    user = User.objects.get(pk=user_id)
    if DigestLog.objects.filter(user=user, day=date.today()).exists():
        return  # already sent: retries must not mail twice
    mail_digest(user)
    DigestLog.objects.create(user=user, day=date.today())""",
    ],
    "sql": [
        """EXPLAIN SELECT id, title, published_at
FROM articles_article
WHERE status = 'published' AND published_at <= NOW()
ORDER BY published_at DESC
LIMIT 10;""",
        """ALTER TABLE articles_article
    ADD COLUMN view_count BIGINT UNSIGNED NOT NULL DEFAULT 0,
    ALGORITHM = INSTANT;

CREATE INDEX article_pub_idx ON articles_article (status, published_at DESC);""",
    ],
    "bash": [
        """# The ten biggest directories, human readable
du -xh / 2>/dev/null | sort -rh | head -n 10

# Who is holding port 8000?
ss -ltnp 'sport = :8000'""",
        """redis-cli INFO persistence | grep -E 'rdb_last_save_time|aof_enabled'
redis-cli --latency-history -i 5
git log --oneline --graph --decorate -n 20""",
    ],
    "javascript": [
        """function debounce(fn, wait = 300) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

input.addEventListener("input", debounce((event) => search(event.target.value)));""",
        """const observer = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (entry.isIntersecting) {
      entry.target.src = entry.target.dataset.src;
      observer.unobserve(entry.target);
    }
  }
});
document.querySelectorAll("img[data-src]").forEach((img) => observer.observe(img));""",
    ],
    "go": [
        """srv := &http.Server{Addr: ":8080", Handler: mux}
go func() {
    if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
        log.Fatal(err)
    }
}()

stop := make(chan os.Signal, 1)
signal.Notify(stop, syscall.SIGTERM)
<-stop
ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
defer cancel()
srv.Shutdown(ctx)""",
    ],
    "rust": [
        """use std::fs;
use std::num::ParseIntError;

fn read_port(path: &str) -> Result<u16, Box<dyn std::error::Error>> {
    let text = fs::read_to_string(path)?;
    let port: u16 = text.trim().parse().map_err(|e: ParseIntError| format!("bad port: {e}"))?;
    Ok(port)
}""",
    ],
    "yaml": [
        """readinessProbe:
  httpGet:
    path: /healthz
    port: 8000
  initialDelaySeconds: 5
  periodSeconds: 10
  failureThreshold: 3
resources:
  requests: {cpu: 250m, memory: 256Mi}
  limits: {memory: 512Mi}""",
    ],
    "dockerfile": [
        """FROM python:3.12-slim AS build
RUN pip wheel --wheel-dir /wheels -r requirements.txt

FROM python:3.12-slim
COPY --from=build /wheels /wheels
RUN pip install --no-index /wheels/* && rm -rf /wheels
USER app
CMD ["gunicorn", "blog_project.wsgi", "--bind", "0.0.0.0:8000"]""",
    ],
    "nginx": [
        """upstream blog {
    least_conn;
    server web1:8000 max_fails=3 fail_timeout=10s;
    server web2:8000 max_fails=3 fail_timeout=10s;
}

server {
    listen 80;
    location /static/ { alias /srv/static/; expires 30d; }
    location / { proxy_pass http://blog; proxy_set_header Host $host; }
}""",
    ],
    "http": [
        """HTTP/1.1 200 OK
Content-Type: text/html; charset=utf-8
Cache-Control: public, max-age=60, stale-while-revalidate=600
ETag: "5d8c72a5edda8"
Vary: Accept-Language, Cookie""",
    ],
    "css": [
        """:root { --bg: #fdfdfc; --fg: #1d1d1f; --accent: #0b6bcb; }

@media (prefers-color-scheme: dark) {
  :root { --bg: #16171a; --fg: #e6e6e6; --accent: #6cb4ff; }
}

body { background: var(--bg); color: var(--fg); }""",
    ],
    "html": [
        """<picture>
  <source srcset="/media/demo/cover.webp" type="image/webp">
  <img src="/media/demo/cover.png" alt="Cover" loading="lazy" width="960" height="540">
</picture>""",
    ],
    "json": [
        """{"ts": "2024-03-02T10:15:04Z", "level": "warning", "event": "slow_query",
 "duration_ms": 412, "path": "/archives/", "queries": 37}""",
    ],
}

# --- Tables ---------------------------------------------------------------------------
EN_TABLES = [
    """| Approach | Queries | Warm page | Cold page |
|:---------|--------:|----------:|----------:|
| Naive loop | 52 | 180 ms | 240 ms |
| `select_related` | 3 | 24 ms | 61 ms |
| Fragment cache | 1 | 4 ms | 58 ms |""",
    """| Option | Pros | Cons |
|--------|------|------|
| Redis | Fast, shared by every worker | One more service to run |
| File cache | No extra service | Slower on network disks |
| Memory cache | Fastest | Not shared between processes |""",
    """| Step | Owner | Status |
|:----:|-------|--------|
| 1 | Backend | Done |
| 2 | Ops | In progress |
| 3 | Everyone | Not started |""",
]
ZH_TABLES = [
    """| 方案 | 查询次数 | 缓存命中 | 未命中 |
|:-----|-------:|-------:|------:|
| 循环里查 | 52 | 180 ms | 240 ms |
| `select_related` | 3 | 24 ms | 61 ms |
| 片段缓存 | 1 | 4 ms | 58 ms |""",
    """| 选项 | 优点 | 缺点 |
|------|------|------|
| Redis | 快，所有进程共享 | 多维护一个服务 |
| 文件缓存 | 不需要额外服务 | 网络盘上比较慢 |
| 进程内缓存 | 最快 | 进程之间不共享 |""",
    """| 步骤 | 负责人 | 状态 |
|:---:|------|------|
| 1 | 后端 | 已完成 |
| 2 | 运维 | 进行中 |
| 3 | 全员 | 未开始 |""",
]

# --- Images (generated by the command into MEDIA_ROOT/demo/) ----------------------------
# (file name, English caption, Chinese caption)
IMAGES = [
    ("mountains.webp", "Evening light over the hills", "傍晚的山"),
    ("latency-chart.png", "Latency before and after the change", "改动前后的延迟对比"),
    ("cache-diagram.png", "Request flow through the page cache", "请求经过页面缓存的流程"),
    ("desk.webp", "My desk on a quiet Sunday", "周日安静的书桌"),
]

# --- The pinned feature tour ----------------------------------------------------------
TOUR_SUMMARY = (
    "Every piece of Markdown this blog supports, in one post: text, lists, task lists, code, "
    "tables, images and footnotes. 一篇看完全部 Markdown 语法。"
)
TOUR_BODY = """Welcome! This demo blog is filled by `python manage.py seed_demo`. This first post
shows every piece of Markdown the editor supports, so you can see how each one looks.
欢迎！本文展示编辑器支持的全部 Markdown 语法。

## Text

You can write *emphasis*, **strong text**, ~~strikethrough~~, `inline code` and
[links](https://www.djangoproject.com/). Bare URLs such as https://example.com become links
on their own. Emoji work everywhere: 🚀 ✅ 中文也没问题。

> Markdown is intended to be as easy-to-read and easy-to-write as is feasible.
> — John Gruber

## Lists

1. Write the article in the admin
2. Watch the live preview
3. Publish now, or pick a time in the future

- Drafts stay private
- Scheduled articles appear on their own
  - nested items work too

### Task lists

- [x] Headings with anchors
- [x] Tables and code
- [ ] Your first article

## Code

```python
def greet(name: str) -> str:
    return f"Hello, {name}!"
```

```javascript
document.querySelector("h1").addEventListener("click", () => alert("hi"));
```

```sql
SELECT title FROM articles_article WHERE status = 'published';
```

## Tables

| Feature | Supported | Notes |
|:--------|:---------:|------:|
| Tables | yes | with alignment |
| Footnotes | yes | see below[^1] |
| Raw `<script>` | no | removed by the sanitiser |

## Images

![Evening light over the hills](/media/demo/mountains.webp)

*Images are uploaded by dragging them onto the editor.*

## Footnotes

Footnotes collect at the end of the article.[^2]

[^1]: Like this one.
[^2]: And this one, 这是第二个脚注。
"""

PAGES = [
    # (slug, title, body, show_in_nav, order)
    (
        "about",
        "About",
        """## About this blog

This is a demo of a self-hosted Django blog: articles in Markdown, Chinese and English,
comments, and a small traffic dashboard. The content was generated by
`python manage.py seed_demo`.

- Source: a single Django project
- Written in: Markdown, in the Django admin
- Contact: demo@example.com
""",
        True,
        10,
    ),
    (
        "关于",
        "关于",
        """## 关于本站

这是一个自建 Django 博客的演示站点：Markdown 写作、中英文双语、评论和访问统计。
内容由 `python manage.py seed_demo` 自动生成。

- 写作：Django 后台 + Markdown 实时预览
- 联系：demo@example.com
""",
        True,
        11,
    ),
    (
        "links",
        "Links · 友情链接",
        """Blogs and sites worth reading:

| Site | Why |
|------|-----|
| [Django](https://www.djangoproject.com/) | The framework this blog runs on |
| [MDN](https://developer.mozilla.org/) | The web platform reference |
| [Python](https://www.python.org/) | 一切的起点 |
""",
        False,
        20,
    ),
]

SITE = {
    "title": "Terminal Notes · 终端笔记",
    "tagline": "Notes on Python, the web and the night shift · 写代码，也写生活",
    "description": "A bilingual demo blog about Python, Django, databases and operations, "
    "with the occasional essay. 一个关于 Python、Web 与运维的中英双语演示博客。",
    "announcement": "👋 This is a **demo blog** filled by `manage.py seed_demo`. "
    "这是一个演示站点，内容均为自动生成。",
    "footer": "© Terminal Notes · Built with [Django](https://www.djangoproject.com/) · [RSS](/feed/rss/)",
}

# (kind, title, body, item_count, order). No title: the kind's heading in the reader's language.
# Kinds of the optional apps (recent comments, site statistics) are seeded when they are installed.
WIDGETS = [
    ("search", "", "", 5, 10),
    (
        "custom",
        "About · 关于",
        "Backend developer writing about **Python**, databases and operations. "
        "写代码，也写生活。\n\n[More about me](/p/about/)",
        5,
        20,
    ),
    ("recent_posts", "", "", 5, 30),
    ("popular_posts", "", "", 5, 40),
    ("recent_comments", "", "", 5, 50),
    ("categories", "", "", 5, 60),
    ("tags", "", "", 5, 70),
    ("archives", "", "", 12, 80),
    (
        "links",
        "",
        "Django https://www.djangoproject.com/\nPython https://www.python.org/\n"
        "MDN https://developer.mozilla.org/",
        5,
        90,
    ),
    ("site_stats", "", "", 5, 100),
]
# Titles earlier demos stored, and what they are now (migration 0009 cleared the others).
RENAMED_WIDGETS = {("custom", "About me"): "About · 关于"}


@dataclass(frozen=True)
class Voice:
    """The pieces an article in one language is made of."""

    intros: list[str]
    paragraphs: list[str]
    headings: list[str]
    closing_headings: list[str]
    closings: list[str]
    list_items: list[str]
    tasks: list[str]
    quotes: list[str]
    footnotes: list[str]
    tables: list[str]
    checklist_heading: str
    caption: int  # index of the caption in IMAGES entries


ENGLISH = Voice(
    EN_INTROS,
    EN_PARAGRAPHS,
    EN_HEADINGS,
    EN_CLOSING_HEADINGS,
    EN_CLOSINGS,
    EN_LIST_ITEMS,
    EN_TASKS,
    EN_QUOTES,
    EN_FOOTNOTES,
    EN_TABLES,
    "Checklist",
    1,
)
CHINESE = Voice(
    ZH_INTROS,
    ZH_PARAGRAPHS,
    ZH_HEADINGS,
    ZH_CLOSING_HEADINGS,
    ZH_CLOSINGS,
    ZH_LIST_ITEMS,
    ZH_TASKS,
    ZH_QUOTES,
    ZH_FOOTNOTES,
    ZH_TABLES,
    "检查清单",
    2,
)
