"""Small stopword lists for key-term extraction (vi, en, zh). Deliberately
short: they only keep function words out of the shared-terms display."""

STOPWORDS = {
    "vi": frozenset("""
và của cho các những một được là có không với trong khi để này đó thì mà như từ trên
dưới theo về tại bằng đã đang sẽ cũng rất nhiều ít hơn nhất hay hoặc nên vì do nếu
người chúng tôi ta họ bạn em anh chị mình nó gì nào đâu sao ra vào lên xuống lại
còn chỉ đến qua sau trước giữa mỗi mọi cả hết vẫn đều phải cần muốn thể việc làm
năm tháng ngày hiện nay đây kia ấy cùng nhau tới nhằm giúp hiện_có khoảng
""".split()),
    "en": frozenset("""
a an the and or but if of to in on at by for with from as is are was were be been
being it its this that these those we our us you your they their them he she his her
i my me not no so than then there here which who whom what when where why how all any
each both more most other some such only own same too very can will just should now
also into over under about after before between through during out up down off again
further once do does did doing have has had having would could may might must shall
per via using use used based new one two three
""".split()),
    "zh": frozenset("""
的 了 是 在 和 与 及 等 对 为 从 到 把 被 让 给 也 都 就 还 又 而 或 但 并 其 此 这 那
我们 你们 他们 我 你 他 她 它 有 没有 一个 一种 可以 能够 需要 进行 通过 以及 目前
""".split()),
}
