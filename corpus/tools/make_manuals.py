"""Generate the binary demo manuals (DOCX and PDF) from text kept in this script.

Outputs (relative to the repository root):
    corpus/manuals/koreisha-ninchisho-soudan.docx   高齢者・認知症に関する相談対応手順
    corpus/manuals/shohisha-higai-taimen.pdf        消費者被害・多重債務 相談対応の手引き

Requirements:
    * python-docx            (a runtime dependency of kb)
    * fpdf2                  (dev extra:  .venv/bin/pip install fpdf2)
    * a Japanese font for the PDF, IPAex Gothic from Debian's fonts-ipaexfont:
          apt-get install -y fonts-ipaexfont
      (/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf). Another path can be given
      with --font or the KB_JP_FONT environment variable. fpdf2 embeds only the glyphs
      that are used (subsetting), so the PDF stays small.

Usage:
    .venv/bin/python corpus/tools/make_manuals.py [--out-dir corpus/manuals] [--font PATH]

The output is deterministic apart from library versions: document dates are fixed and the
DOCX zip entries get a fixed timestamp, so regenerating does not churn the files.
Everything here is fiction (桜川市 is a fictional city); phone numbers follow the corpus
convention 099-555-11NN for department NN in corpus/DEPARTMENTS.txt.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "corpus" / "manuals"
DEFAULT_FONT = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
FIXED_DATE = datetime(2025, 4, 1, 9, 0, 0, tzinfo=UTC)


# --------------------------------------------------------------------------------------
# Document model: a list of blocks shared by the DOCX and PDF renderers.
# --------------------------------------------------------------------------------------
@dataclass
class Doc:
    title: str
    subject: str  # responsible department(s), "|"-separated as in Markdown front matter
    author: str
    blocks: list[tuple[str, Any]] = field(default_factory=list)

    def h1(self, text: str) -> None:
        self.blocks.append(("h1", text))

    def h2(self, text: str) -> None:
        self.blocks.append(("h2", text))

    def p(self, text: str) -> None:
        self.blocks.append(("p", text))

    def bullets(self, *items: str) -> None:
        self.blocks.append(("bullets", list(items)))

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        self.blocks.append(("table", (header, rows)))


def tel(nn: int) -> str:
    """Fictional phone number of department NN (corpus/DEPARTMENTS.txt)."""
    return f"099-555-11{nn:02d}"


# --------------------------------------------------------------------------------------
# 3. 高齢者・認知症に関する相談対応手順 (DOCX)
# --------------------------------------------------------------------------------------
def koreisha_doc() -> Doc:
    d = Doc(
        title="高齢者・認知症に関する相談対応手順",
        subject="高齢者支援課|介護保険課",
        author="桜川市 高齢者支援課",
    )
    d.p("桜川市 高齢者支援課・介護保険課　令和7年4月改訂")
    d.p(
        "この手順書は、高齢者や認知症に関する相談を受ける高齢者支援課・介護保険課の職員、"
        "総合相談窓口の職員、地域包括支援センターの職員が、共通の流れで対応できるようにまとめたものです。"
        "相談者は本人だけでなく、家族、近所の方、民生委員、ケアマネジャー、金融機関など様々です。"
        "誰からの相談であっても、本人の意思と尊厳を大切にすることを基本とします。"
    )

    d.h1("1. 初回相談")
    d.h2("1.1 相談の受け方")
    d.p(
        "初回相談では、相談者が何に困っているのかを丁寧に聞き取ります。"
        "「物忘れがひどくなった」「同じものを何度も買ってくる」「介護が限界」など、相談者の言葉をそのまま記録し、"
        "制度の説明を急がないようにします。家族からの相談の場合は、本人が相談のことを知っているかどうかも確認します。"
    )
    d.h2("1.2 聞き取る内容")
    d.bullets(
        "本人の氏名・年齢・住所・世帯構成（独居、高齢者のみの世帯など）",
        "気になっている症状や出来事と、それがいつ頃から始まったか",
        "医療機関の受診状況（かかりつけ医、認知症の診断の有無）",
        "要介護認定の有無と、利用している介護サービス",
        "家族・親族の状況、主に介護している人とその負担の程度",
        "金銭管理の状況、消費者被害や虐待が疑われる事情の有無",
    )
    d.h2("1.3 本人が相談や支援を望まない場合")
    d.p(
        "本人が「自分はまだ大丈夫」と支援を拒む場合も少なくありません。無理に説得せず、"
        "地域包括支援センターの職員が訪問して顔なじみの関係をつくることから始めます。"
        "認知症の疑いがあり医療や介護につながっていない場合は、認知症初期集中支援チームへの依頼を検討します。"
    )

    d.h2("1.4 医療につなぐ")
    d.p(
        "認知症は早めに診断を受けることで、治療できる病気が見つかったり、進行を緩やかにしたりできる場合があります。"
        "かかりつけ医への相談を勧めるとともに、専門の診断が必要な場合は認知症疾患医療センターを紹介します。"
        "受診を嫌がる場合は「健康診断のついでに」などと声をかける工夫を家族に助言し、"
        "健康推進課で毎月行っている物忘れ相談（医師による個別相談、予約制）も案内します。"
    )

    d.h1("2. 地域包括支援センターの役割")
    d.h2("2.1 センターの業務")
    d.p(
        "地域包括支援センターは、高齢者の暮らしを地域で支える総合相談の拠点です。"
        "桜川市では、市内を5つの圏域に分け、桜川中央、桜川東、桜川西、北部、南部の各地域包括支援センターを設置しています。"
        "保健師、社会福祉士、主任ケアマネジャーが配置され、次の業務を行います。"
    )
    d.bullets(
        "総合相談支援：介護、健康、福祉、生活に関するあらゆる相談の受付",
        "権利擁護：成年後見制度の利用支援、高齢者虐待への対応、消費者被害の防止",
        "包括的・継続的ケアマネジメント支援：ケアマネジャーへの助言、地域ケア会議の開催",
        "介護予防ケアマネジメント：要支援の方や事業対象者の介護予防ケアプランの作成",
    )
    d.h2("2.2 担当センターの案内")
    d.p(
        "担当の地域包括支援センターは、本人の住所で決まります。相談者が担当センターを知らない場合は、"
        f"高齢者支援課（{tel(8)}）で住所から担当センターを確認し、センターに連絡して引き継ぎます。"
    )

    d.h1("3. 要介護認定の流れ")
    d.h2("3.1 申請")
    d.p(
        "介護保険のサービスを利用するには、要介護認定の申請が必要です。申請は介護保険課の窓口のほか、"
        "地域包括支援センターや居宅介護支援事業所による代行もできます。申請には介護保険被保険者証が必要です。"
        "40歳から64歳の方は、特定疾病が原因で介護が必要になった場合に限り申請できます。"
    )
    d.h2("3.2 認定調査と主治医意見書")
    d.p(
        "申請後、市の認定調査員が自宅や入院先を訪問し、心身の状況について聞き取り調査を行います。"
        "家族の立会いを勧め、普段の様子を正確に伝えてもらうよう案内します。"
        "あわせて、市から主治医に意見書の作成を依頼します。かかりつけ医がいない場合は、市が指定する医師の診察を受けます。"
    )
    d.h2("3.3 審査判定と結果の通知")
    d.p(
        "認定調査の結果と主治医意見書をもとに、介護認定審査会で要支援1・2、要介護1から5、または非該当を判定します。"
        "結果は原則として申請から30日以内に郵送で通知します。結果に納得できない場合は、介護保険課で説明を受けられるほか、"
        "県の介護保険審査会に審査請求ができます。"
    )
    d.h2("3.4 結果が出る前のサービス利用")
    d.p(
        "急いで介護サービスが必要な場合は、認定結果が出る前でも、暫定のケアプランを作成してサービスを利用できます。"
        "ただし、認定結果によっては自己負担が増えることがあるため、ケアマネジャーとよく相談するよう伝えます。"
    )

    d.h1("4. 徘徊・行方不明時の対応")
    d.h2("4.1 行方不明の連絡を受けたとき")
    d.p(
        "認知症の方が行方不明になったという連絡を受けたら、時間が経つほど発見が難しくなるため、すぐに行動します。"
        "まず家族に警察（110番）への届出を勧め、まだ届け出ていない場合は職員から警察に連絡します。"
        "家族の同意を得て「桜川市見守りSOSネットワーク」に協力を依頼し、協力事業所（コンビニエンスストア、"
        "タクシー会社、郵便局など）とメール配信の登録者に、本人の特徴を一斉に配信します。"
    )
    d.bullets(
        "確認すること：氏名、年齢、身長・体格、服装、持ち物、いなくなった時刻と場所",
        "以前に行ったことのある場所、昔住んでいた家、勤め先など、本人が向かいそうな場所",
        "写真の有無（配信と警察への提供に使います）",
    )
    d.h2("4.2 事前の備え")
    d.p(
        "行方不明になるおそれのある方の家族には、見守りSOSネットワークへの事前登録を勧めます。"
        "登録者には、衣服や持ち物に貼る見守りシール（QRコード付き）を配布します。"
        "発見した人がQRコードを読み取ると、個人情報を伝えずに家族へ連絡が届く仕組みです。"
        "GPS端末の購入費用の助成もあります。"
    )

    d.h2("4.3 発見・保護されたあと")
    d.p(
        "本人が見つかったら、配信を停止し、協力事業所と登録者に発見の連絡を流します。"
        "家族には、本人を叱らず安心させるよう伝えます。行方不明を繰り返す場合は、地域包括支援センターが"
        "ケアマネジャーと一緒にケアプランを見直し、デイサービスの利用回数や見守りの体制を検討します。"
    )

    d.h1("5. 成年後見制度")
    d.h2("5.1 制度の概要")
    d.p(
        "成年後見制度は、認知症などで判断能力が不十分な方の財産管理や契約を、後見人等が支援する制度です。"
        "すでに判断能力が低下している方のための法定後見（後見・保佐・補助）と、"
        "判断能力があるうちに将来の支援者を決めておく任意後見があります。"
    )
    d.h2("5.2 申立て")
    d.p(
        "法定後見は、本人、配偶者、四親等内の親族などが家庭裁判所に申し立てます。"
        "申立てをする親族がいない場合や、親族が申立てを拒んでいる場合で、本人の保護が必要なときは、"
        "高齢者支援課が市長申立てを検討します。申立ての準備には時間がかかるため、"
        "預金の引き出しや施設との契約が差し迫っている場合は早めに相談するよう案内します。"
    )
    d.h2("5.3 成年後見センターと費用の助成")
    d.p(
        "桜川市成年後見センター（桜川市社会福祉協議会に委託）では、制度の説明、申立て書類の作成支援、"
        "市民後見人の養成を行っています。収入や資産が少ない方には、申立て費用と後見人等への報酬を助成する制度があります。"
        "判断能力の低下が軽く、日常的な金銭管理の支援で足りる場合は、社会福祉協議会の日常生活自立支援事業も紹介します。"
    )

    d.h1("6. 高齢者虐待の通報")
    d.h2("6.1 虐待の種類")
    d.bullets(
        "身体的虐待：たたく、つねる、ベッドに縛り付けるなど",
        "介護・世話の放棄・放任：食事を与えない、必要な医療や介護を受けさせないなど",
        "心理的虐待：怒鳴る、無視する、子ども扱いして恥をかかせるなど",
        "性的虐待：本人の同意のない性的な行為",
        "経済的虐待：年金や預金を勝手に使う、必要なお金を渡さないなど",
    )
    d.h2("6.2 通報を受けたとき")
    d.p(
        "高齢者虐待防止法により、虐待を受けたと思われる高齢者を発見した人は、市町村に通報するよう努めなければならず、"
        "生命や身体に重大な危険が生じている場合は通報しなければなりません。通報は確証がなくても受け付け、"
        "通報者が誰であるかは本人や家族に明かしません。通報を受けた職員は、通報の内容を記録し、直ちに課長に報告します。"
        "原則として48時間以内に、地域包括支援センターと協力して訪問などにより本人の安全を確認します。"
        "緊急性が高い場合は、ショートステイや施設への一時保護（やむを得ない事由による措置）を行います。"
    )
    d.h2("6.3 介護施設の職員による虐待")
    d.p(
        "介護施設や介護サービス事業所の職員による虐待の通報は、介護保険課が受け付け、事業所の指導監督を担当する部署と連携して事実確認を行います。"
    )

    d.h1("7. 家族介護者の支援")
    d.h2("7.1 介護者の負担に気づく")
    d.p(
        "介護をしている家族は、自分の疲れや困りごとを後回しにしがちです。「夜眠れない」「仕事を辞めるしかない」"
        "といった言葉が聞かれたら、介護者自身の相談として受け止めます。介護者が一人で抱え込み、"
        "虐待や共倒れに至ることを防ぐのも、相談支援の大切な役割です。"
    )
    d.h2("7.2 利用できる支援")
    d.bullets(
        "ショートステイやデイサービスの利用による介護者の休息（レスパイト）",
        "介護者のつどい：毎月、各地域包括支援センターで介護者同士が話し合う場を開いています",
        "認知症カフェ：本人と家族、地域の人が気軽に集まれる場（市内8か所）",
        "家族介護用品の支給：要介護4・5の方を在宅で介護する住民税非課税世帯に、紙おむつ等を支給",
        "介護休業・介護休暇など仕事との両立：産業振興課の就労支援窓口や勤め先の人事担当へ案内",
    )
    d.p(
        "子育てと介護を同時に担うダブルケアの場合は、子育て支援課・保育幼稚園課とも連携します。"
        "18歳未満の子どもが家族の介護を担っている場合は、ヤングケアラーとしてこども家庭相談課へ連絡します。"
    )

    d.h1("8. 8050問題")
    d.h2("8.1 世帯全体を見る")
    d.p(
        "80代の親が、ひきこもりや無職の50代の子と暮らし、生活を支えている世帯の課題を8050問題と呼びます。"
        "親の要介護認定や入院をきっかけに、子の生活が立ち行かなくなることが分かる場合が多くあります。"
        "親の介護の相談を受けた際には、同居家族の状況もさりげなく確認し、子の支援が必要かどうかを見立てます。"
    )
    d.h2("8.2 連携の進め方")
    d.p(
        f"子の生活や就労については生活支援課（{tel(6)}）の自立相談支援につなぎ、心身の不調がある場合は"
        "健康推進課のこころの相談や障害福祉課と連携します。地域包括支援センターと生活支援課が合同で訪問し、"
        "親の介護と子の支援を同時に進めることが効果的です。子が介護を担っているときは、"
        "経済的虐待や介護放棄に至っていないかにも注意しながら、責めることなく子の困りごとも受け止めます。"
        "関係する課が多い場合は、市民相談センターの調整のもとで関係課によるケース会議を開きます。"
    )

    d.h1("9. 相談内容と連絡先")
    d.p("主な相談内容と担当課は次のとおりです。受付時間は平日午前8時30分から午後5時15分までです。")
    d.table(
        ["相談内容", "担当課", "電話番号"],
        [
            ["認知症、見守り、地域包括支援センター", "高齢者支援課", tel(8)],
            ["高齢者虐待の通報・相談", "高齢者支援課", tel(8)],
            ["成年後見制度、市長申立て", "高齢者支援課", tel(8)],
            ["要介護認定の申請、介護サービス、介護保険料", "介護保険課", tel(7)],
            ["介護施設・事業所の職員による虐待", "介護保険課", tel(7)],
            ["同居する子の生活困窮・就労（8050問題）", "生活支援課", tel(6)],
            ["こころの相談", "健康推進課", tel(12)],
            ["高齢者の消費者被害", "消費生活センター", tel(15)],
            ["ヤングケアラー", "こども家庭相談課", tel(11)],
            ["どこに相談すればよいか分からないとき", "市民相談センター", tel(16)],
        ],
    )
    d.p(
        "行方不明や虐待で命に危険がある場合は、夜間・休日も警察（110番）または救急（119番）へ連絡してください。"
    )
    return d


# --------------------------------------------------------------------------------------
# 4. 消費者被害・多重債務 相談対応の手引き (PDF)
# --------------------------------------------------------------------------------------
def shohisha_doc() -> Doc:
    d = Doc(
        title="消費者被害・多重債務 相談対応の手引き",
        subject="消費生活センター|市民相談センター",
        author="桜川市 消費生活センター",
    )
    d.p("桜川市 消費生活センター・市民相談センター　令和7年4月")
    d.p(
        "この手引きは、消費者トラブルや借金の相談を受けたときに、消費生活センターと市民相談センターの相談員、"
        "総合相談窓口の職員が共通して使うものです。相談員は事業者との間に入ってあっせんを行うことがありますが、"
        "相談者に代わって契約を解除したり、法的な判断を下したりすることはできません。"
        "法的な判断が必要な場合は、弁護士・司法書士による法律相談につなぎます。"
    )

    d.h1("1. 定期購入トラブル")
    d.h2("1.1 よくある相談")
    d.p(
        "「初回500円」「お試し価格」という広告を見て健康食品や化粧品を注文したところ、"
        "実際には数か月分の購入が条件の定期購入契約で、2回目以降に高額な代金を請求されたという相談が多く寄せられています。"
        "解約しようとしても電話がつながらない、解約には次回発送日の10日前までの連絡が必要と言われた、という訴えも目立ちます。"
    )
    d.h2("1.2 聞き取りのポイント")
    d.bullets(
        "注文したサイトの名称、商品名、注文日、支払方法（クレジットカード、後払い、代金引換など）",
        "注文時の画面に、定期購入であることや支払総額、解約条件が表示されていたか",
        "広告や最終確認画面のスクリーンショット、注文確認メールが残っているか",
        "事業者との連絡の経過（いつ、どの方法で、何を言われたか）",
    )
    d.h2("1.3 助言と対応")
    d.p(
        "通信販売にはクーリング・オフの制度がないことをまず説明します。ただし、特定商取引法により、"
        "最終確認画面で定期購入であることや支払総額などが分かりやすく表示されておらず、それによって誤認して申し込んだ場合は、"
        "申込みを取り消せることがあります。事業者の返品特約も確認します。"
        "相談者が自分で交渉することが難しい場合は、センターが事業者との間に入ってあっせんを行います。"
        "クレジットカードで支払った場合は、カード会社への連絡もあわせて助言します。"
    )

    d.h2("1.4 若者の契約トラブル")
    d.p(
        "成年年齢が18歳に引き下げられたことにより、18歳・19歳の方は未成年者取消しができなくなりました。"
        "SNSの広告をきっかけとした定期購入や、もうけ話を持ちかけられて高額な情報商材を購入したという若者からの相談が増えています。"
        "17歳以下の方が親の同意なく結んだ契約は、原則として取り消せることを伝えます。"
        "学校教育課や市内の高校と連携し、出前講座で契約の基礎知識を伝える取組みも行っています。"
    )

    d.h1("2. 訪問販売とクーリング・オフ")
    d.h2("2.1 クーリング・オフできる取引と期間")
    d.p(
        "クーリング・オフは、一定の取引について、契約書面を受け取った日から一定の期間内であれば、"
        "理由を問わず無条件で契約を解除できる制度です。"
    )
    d.bullets(
        "8日間：訪問販売、電話勧誘販売、特定継続的役務提供（エステ、語学教室、学習塾など）、訪問購入",
        "20日間：連鎖販売取引（マルチ商法）、業務提供誘引販売取引（内職・モニター商法）",
    )
    d.p(
        "契約書面に不備がある場合や、事業者がうそを言ってクーリング・オフを妨げた場合は、期間を過ぎていてもクーリング・オフできることがあります。"
        "期間が過ぎていても、あきらめずに相談するよう伝えます。"
    )
    d.h2("2.2 通知の方法")
    d.p(
        "クーリング・オフは書面または電子メールなどの電磁的記録で通知します。はがきで出す場合は、"
        "両面をコピーしてから特定記録郵便か簡易書留で送り、コピーと郵便の受領証を保管するよう助言します。"
        "クレジット契約をしている場合は、クレジット会社にも同時に通知します。相談者が書き方に迷う場合は、"
        "窓口で記載例を示しながら一緒に作成します。"
    )
    d.h2("2.3 点検商法と住宅リフォーム")
    d.p(
        "「屋根瓦がずれている」「床下が湿っている」などと言って無料点検を持ちかけ、不安をあおって高額な工事を契約させる点検商法の相談が、"
        "高齢者を中心に続いています。工事が始まっていてもクーリング・オフは可能です。"
        "その場で契約せず、家族や複数の業者に相談するよう日頃から呼びかけます。"
    )

    d.h2("2.4 訪問購入（押し買い）")
    d.p(
        "「不用品を買い取ります」と電話で訪問の約束を取り付け、自宅に来ると貴金属を強引に安値で買い取っていく訪問購入の相談もあります。"
        "訪問購入は8日間のクーリング・オフができ、その間は売った品物の引渡しを拒むことができます。"
        "業者が一方的に訪問して勧誘することは禁止されていることも説明します。"
    )

    d.h2("2.5 送り付け商法")
    d.p(
        "注文していない商品を一方的に送り付け、代金を請求する送り付け商法（ネガティブ・オプション）では、"
        "消費者は送られてきた商品を直ちに処分することができ、代金を支払う義務はありません。"
        "代金引換で届いた場合は受け取らないこと、誤って支払った場合は早めに相談することを伝えます。"
    )

    d.h1("3. 架空請求・特殊詐欺")
    d.h2("3.1 架空請求の手口")
    d.p(
        "「有料サイトの未納料金があります。本日中に連絡がない場合は法的手続きに移ります」といったメールやショートメッセージで不安をあおり、"
        "電話をかけさせて電子マネーやコンビニ払いで支払わせる手口が代表的です。"
        "心当たりのない請求には一切連絡しない、支払わない、個人情報を教えないことを伝えます。"
        "裁判所からの通知を装ったはがきの場合は、裁判所の連絡先を自分で調べて確認するよう助言します。"
    )
    d.h2("3.2 特殊詐欺")
    d.p(
        "家族を装って現金を要求するオレオレ詐欺、役所の職員を名乗って「医療費の還付金がある」とATMに誘導する還付金詐欺、"
        "警察官や銀行員を名乗ってキャッシュカードをだまし取る詐欺などがあります。"
        "市役所や年金事務所の職員が、ATMの操作をお願いして還付金を返すことは絶対にありません。"
    )
    d.h2("3.3 被害にあったとき")
    d.p(
        "お金を支払ってしまった場合は、すぐに警察（110番）に通報し、振込先の金融機関にも連絡するよう案内します。"
        "電子マネーで支払った場合は、発行会社に利用停止を求めます。被害にあったかどうか迷う相談は、"
        "警察相談専用電話（#9110）も利用できます。"
    )

    d.h2("3.4 被害を防ぐための呼びかけ")
    d.p(
        "固定電話は常に留守番電話に設定し、知らない番号からの電話には出ないよう呼びかけます。"
        "桜川市では、65歳以上の方がいる世帯に、通話を自動で録音し警告メッセージを流す迷惑電話防止装置を無料で貸し出しています。"
        "申込みは消費生活センターで受け付けます。"
    )

    d.h1("4. 高齢者の消費者被害と見守り")
    d.h2("4.1 被害の特徴")
    d.p(
        "高齢者は自宅にいる時間が長く、訪問販売や電話勧誘の標的になりやすい傾向があります。"
        "被害にあったことに気づかない、あるいは恥ずかしさから家族に話さないため、発見が遅れがちです。"
        "同じ業者と何度も契約を繰り返す「次々販売」の被害も見られます。"
    )
    d.h2("4.2 見守りネットワーク")
    d.p(
        "桜川市消費者安全確保地域協議会（見守りネットワーク）では、民生委員、地域包括支援センター、ホームヘルパー、"
        "金融機関、宅配事業者などが、高齢者の消費者被害の兆しに気づいたときに消費生活センターへ連絡する仕組みを設けています。"
        "見慣れない健康食品の箱が積まれている、工事業者の出入りが多い、新聞が複数届いている、といったサインに注意するよう呼びかけています。"
    )
    d.h2("4.3 判断能力の低下が疑われる場合")
    d.p(
        "本人の判断能力の低下が疑われる場合は、本人の了解を得て高齢者支援課や地域包括支援センターと情報を共有し、"
        "成年後見制度や日常生活自立支援事業の利用を検討します。"
    )

    d.h2("4.4 家族からの相談")
    d.p(
        "離れて暮らす子どもなど家族から「親が不要な契約を繰り返している」という相談を受けた場合は、"
        "契約書や領収書、通帳の記録を一緒に確認するよう助言します。契約の解除には本人の意思確認が必要なため、"
        "可能であれば本人と一緒に来所するか、本人の了解を得てセンターから電話することを提案します。"
    )

    d.h1("5. 多重債務の相談")
    d.h2("5.1 聞き取りの進め方")
    d.p(
        "多重債務の相談は、市民相談センターが受け付けます。借金の相談をためらう方が多いため、"
        "「借金の問題は必ず解決の方法があります」と伝え、安心して話せる雰囲気をつくります。"
        "借入先一覧表を使って、借入先、借入額、返済額、借入開始の時期、保証人の有無を整理します。"
        "あわせて、収入、家族構成、税や公共料金の滞納の有無を確認します。"
    )
    d.h2("5.2 債務整理の種類")
    d.bullets(
        "任意整理：弁護士や司法書士が貸金業者と交渉し、将来の利息をなくすなどして返済計画を立て直します",
        "個人再生：裁判所の手続きにより借金を大幅に減額し、原則3年で分割返済します。住宅を残せる場合があります",
        "自己破産：裁判所に申し立て、免責が認められると借金の支払い義務がなくなります",
        "特定調停：簡易裁判所の調停委員の仲介により、貸金業者と返済条件を話し合います",
    )
    d.p(
        "長期間にわたって高い金利で返済してきた方は、払い過ぎた利息（過払い金）を取り戻せる場合があります。"
        "どの方法が適しているかは、相談員ではなく弁護士・司法書士が判断します。"
    )
    d.h2("5.3 法律相談へのつなぎ")
    d.p(
        "市民相談センターでは、毎週水曜日の午後に弁護士による無料法律相談（予約制、1回30分）を行っています。"
        "収入が一定以下の方には、法テラス（日本司法支援センター）の無料法律相談と、弁護士費用の立替え制度を案内します。"
        "貸金業者からの取立てが厳しい場合は、弁護士・司法書士に依頼すると取立てが止まることを伝えます。"
        "ヤミ金融からの借入れが疑われる場合は、返済せずに警察に相談するよう助言します。"
    )
    d.h2("5.4 生活の立て直し")
    d.p(
        "借金の整理だけでは生活が立て直せない場合も多くあります。家計の見直しや就労の支援が必要な方は、"
        "生活支援課の家計改善支援につなぎます。税の滞納がある場合は納税課の分納相談を案内します。"
    )

    d.h2("5.5 借金を繰り返さないために")
    d.p(
        "借金の原因がギャンブルや買い物への依存にある場合は、債務整理をしても再び借金を重ねることがあります。"
        "本人や家族の了解を得て、健康推進課のこころの相談や依存症の自助グループを紹介します。"
        "生活費の不足から借入れを繰り返している場合は、社会福祉協議会の生活福祉資金貸付など、公的な貸付制度の利用も検討します。"
    )

    d.h1("6. 相談記録と関係機関との連携")
    d.h2("6.1 相談記録")
    d.p(
        "相談を受けたら、相談カードに相談者の属性、契約の内容、事業者名、相談の経過と助言の内容を記録し、"
        "全国消費生活情報ネットワークシステム（PIO-NET）に登録します。事業者名や手口の情報は、"
        "同じ事業者による被害の拡大を防ぐために活用されます。多重債務の相談記録は、市民相談センターで別に管理します。"
    )
    d.h2("6.2 他課との連携")
    d.p(
        "消費者被害や借金の背景に、認知症、障害、生活困窮、家族の問題などがうかがえる場合は、"
        "相談者の同意を得て関係課につなぎます。税や国民健康保険料の滞納の相談から多重債務が見つかることも多いため、"
        "納税課や保険年金課の窓口から市民相談センターへの紹介を受けた場合は、当日中に面談できるよう調整します。"
    )

    d.h1("7. 関係機関一覧")
    d.table(
        ["機関・担当課", "主な相談内容", "連絡先"],
        [
            ["消費生活センター", "悪質商法、定期購入、架空請求", tel(15)],
            ["市民相談センター", "多重債務、無料法律相談", tel(16)],
            ["高齢者支援課", "高齢者の見守り、成年後見", tel(8)],
            ["生活支援課", "生活困窮、家計改善支援", tel(6)],
            ["納税課", "税の分納相談", tel(4)],
            ["消費者ホットライン", "最寄りの消費生活相談窓口", "188"],
            ["警察相談専用電話", "詐欺などの相談", "#9110"],
        ],
    )
    return d


# --------------------------------------------------------------------------------------
# Renderers
# --------------------------------------------------------------------------------------
def _set_east_asian_font(style: Any, name: str) -> None:
    from docx.oxml.ns import qn

    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), name)


def render_docx(doc: Doc, path: Path) -> None:
    from docx import Document
    from docx.shared import Pt

    document = Document()
    styles = document.styles
    styles["Normal"].font.size = Pt(10.5)
    _set_east_asian_font(styles["Normal"], "游明朝")
    for name in ("Title", "Heading 1", "Heading 2"):
        _set_east_asian_font(styles[name], "游ゴシック")

    props = document.core_properties
    props.title = doc.title
    props.subject = doc.subject
    props.author = doc.author
    props.last_modified_by = doc.author
    props.language = "ja-JP"
    props.created = FIXED_DATE.replace(tzinfo=None)
    props.modified = FIXED_DATE.replace(tzinfo=None)
    props.revision = 1

    document.add_paragraph(doc.title, style="Title")
    for kind, value in doc.blocks:
        if kind == "h1":
            document.add_paragraph(str(value), style="Heading 1")
        elif kind == "h2":
            document.add_paragraph(str(value), style="Heading 2")
        elif kind == "p":
            document.add_paragraph(str(value))
        elif kind == "bullets":
            for item in value:
                document.add_paragraph(item, style="List Bullet")
        elif kind == "table":
            header, rows = value
            table = document.add_table(rows=1, cols=len(header))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, header, strict=True):
                cell.text = text
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for row in rows:
                cells = table.add_row().cells
                for cell, text in zip(cells, row, strict=True):
                    cell.text = text
        else:
            raise ValueError(kind)

    buf = io.BytesIO()
    document.save(buf)
    path.write_bytes(_normalise_zip(buf.getvalue()))


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite a DOCX zip with fixed entry timestamps so regeneration is byte-stable."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            new = zipfile.ZipInfo(info.filename, date_time=(2025, 4, 1, 9, 0, 0))
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = 0o644 << 16
            dst.writestr(new, src.read(info.filename))
    return out.getvalue()


# Japanese line breaking (kinsoku shori): these may not start / end a line.
_NO_LINE_START = set(
    "、。，．・：；？！ー）」』】〕》〉ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々…"
)
_NO_LINE_END = set("（「『【〔《〈")
_ASCII_WORD = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789#.,%-/:@")


def wrap_ja(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """Break Japanese text into lines no wider than ``width`` (hanging punctuation allowed).

    ASCII runs (numbers, "ATM", "#9110") are never split nor separated from the character
    that follows them ("8日間"), a line never starts with closing punctuation or small kana
    and never ends with an opening bracket.
    """
    tokens: list[str] = []
    for ch in text:
        if tokens and ch in _ASCII_WORD and tokens[-1][-1] in _ASCII_WORD:
            tokens[-1] += ch
        else:
            tokens.append(ch)
    # Keep a number with the counter that follows it ("8日間", "110番", "30分").
    merged: list[str] = []
    for tok in tokens:
        if merged and merged[-1][-1] in _ASCII_WORD and tok not in _ASCII_WORD and len(tok) == 1:
            merged[-1] += tok
        else:
            merged.append(tok)
    tokens = merged
    lines: list[str] = []
    cur = ""
    for tok in tokens:
        if not cur or measure(cur + tok) <= width or tok in _NO_LINE_START:
            cur += tok  # closing punctuation hangs into the margin rather than wrapping
            continue
        carry = ""
        while cur and cur[-1] in _NO_LINE_END:
            carry = cur[-1] + carry
            cur = cur[:-1]
        if cur:
            lines.append(cur)
        cur = carry + tok
    if cur:
        lines.append(cur)
    return lines


def render_pdf(doc: Doc, path: Path, font_path: str) -> None:
    from fpdf import FPDF
    from fpdf.enums import WrapMode, XPos, YPos
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_font("IPAexGothic", "", font_path)
    pdf.set_title(doc.title)
    pdf.set_subject(doc.subject)
    pdf.set_author(doc.author)
    pdf.set_lang("ja")
    pdf.set_creator("corpus/tools/make_manuals.py")
    pdf.set_creation_date(FIXED_DATE)
    pdf.add_page()

    width = pdf.epw

    def line(text: str, size: float, height: float, space_before: float = 0.0) -> None:
        pdf.set_font("IPAexGothic", size=size)
        if space_before:
            pdf.ln(space_before)
        for chunk in wrap_ja(text, width, pdf.get_string_width):
            pdf.cell(width, height, chunk, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line(doc.title, 18, 10)
    pdf.ln(4)
    for kind, value in doc.blocks:
        if kind == "h1":
            # Keep a heading with at least a few lines of its section.
            if pdf.will_page_break(30):
                pdf.add_page()
            line(str(value), 14, 8, space_before=5)
            pdf.ln(1)
        elif kind == "h2":
            if pdf.will_page_break(20):
                pdf.add_page()
            line(str(value), 12, 7, space_before=2)
        elif kind == "p":
            line(str(value), 10.5, 6)
            pdf.ln(1.5)
        elif kind == "bullets":
            pdf.set_font("IPAexGothic", size=10.5)
            for item in value:
                chunks = wrap_ja(item, width - 5, pdf.get_string_width)
                if pdf.will_page_break(6 * min(len(chunks), 2)):
                    pdf.add_page()
                for i, chunk in enumerate(chunks):
                    pdf.set_x(pdf.l_margin)
                    pdf.cell(5, 6, "・" if i == 0 else "")
                    pdf.cell(width - 5, 6, chunk, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1.5)
        elif kind == "table":
            header, rows = value
            pdf.set_font("IPAexGothic", size=10)
            with pdf.table(
                col_widths=(35, 85, 30),
                line_height=7,
                text_align="LEFT",
                wrapmode=WrapMode.CHAR,
                # IPAex Gothic has no bold face: shade the header row instead.
                headings_style=FontFace(emphasis="", fill_color=(225, 225, 225)),
            ) as table:
                for r in [header, *rows]:
                    trow = table.row()
                    for text in r:
                        trow.cell(text)
            pdf.ln(2)
        else:
            raise ValueError(kind)

    pdf.output(str(path))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--font", default=os.environ.get("KB_JP_FONT", DEFAULT_FONT))
    args = ap.parse_args(argv)

    if not Path(args.font).is_file():
        print(
            f"Japanese font not found: {args.font}\n"
            "Install it with `apt-get install -y fonts-ipaexfont` or pass --font PATH.",
            file=sys.stderr,
        )
        return 2
    args.out_dir.mkdir(parents=True, exist_ok=True)

    docx_path = args.out_dir / "koreisha-ninchisho-soudan.docx"
    pdf_path = args.out_dir / "shohisha-higai-taimen.pdf"
    render_docx(koreisha_doc(), docx_path)
    render_pdf(shohisha_doc(), pdf_path, args.font)
    for p in (docx_path, pdf_path):
        print(f"wrote {p} ({p.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
