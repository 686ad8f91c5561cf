<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>CheckAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms.py" line="179"/>
        <source>Check conflicts</source>
        <translation>冲突检查</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="182"/>
        <source>Checks</source>
        <translation>检查</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="190"/>
        <source>Runs the conflict checks on a project GeoPackage and merges the findings into its conflict table (reviews are kept, findings that no longer occur become resolved). Rules to run: comma-separated ids among {0} (empty: all). Area: the uid of a renovation area. The DEM defaults to PROJECT_dem.tif beside the project.</source>
        <translation>对项目 GeoPackage 运行冲突检查，并将结果合并到其冲突检查结果表中（保留审核意见，不再出现的问题标记为已解决）。要运行的规则：以逗号分隔的规则编号，可选 {0}（留空：全部）。片区：改造片区的编号。DEM 默认为项目旁的 PROJECT_dem.tif。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="197"/>
        <source>Project GeoPackage</source>
        <translation>项目 GeoPackage</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="199"/>
        <source>Rules profile (YAML)</source>
        <translation>规则配置（YAML）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="199"/>
        <source>Rules profile (*.yaml *.yml)</source>
        <translation>规则配置 (*.yaml *.yml)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="202"/>
        <source>Rules to run (comma-separated ids, empty: all)</source>
        <translation>要运行的规则（以逗号分隔的规则编号，留空：全部）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="204"/>
        <source>DEM (GeoTIFF)</source>
        <translation>数字高程模型 DEM（GeoTIFF）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="206"/>
        <source>Renovation area (uid, empty: whole project)</source>
        <translation>改造片区（编号，留空：整个项目）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="208"/>
        <source>Certain findings only (count and CSV)</source>
        <translation>仅确定的问题（计数与 CSV）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="210"/>
        <source>Findings CSV</source>
        <translation>检查结果 CSV</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="210"/>
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="213"/>
        <source>Number of findings</source>
        <translation>问题数</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="214"/>
        <source>Number of certain findings</source>
        <translation>确定的问题数</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="215"/>
        <source>New findings</source>
        <translation>新发现的问题数</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="216"/>
        <source>Resolved findings</source>
        <translation>已解决的问题数</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="217"/>
        <source>Conflict table</source>
        <translation>冲突检查结果表</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="226"/>
        <source>No project file given</source>
        <translation>未指定项目文件</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="246"/>
        <source>Canceled: nothing was written</source>
        <translation>已取消：未写入任何内容</translation>
    </message>
</context>
<context>
    <name>ChecksTab</name>
    <message>
        <location filename="../plugin/checks_tab.py" line="99"/>
        <source>Check options</source>
        <translation>检查选项</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="103"/>
        <source>Rules to run (all by default)</source>
        <translation>要运行的规则（默认全部）</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="110"/>
        <source>Rules</source>
        <translation>规则</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="113"/>
        <source>All</source>
        <translation>全选</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="116"/>
        <source>None</source>
        <translation>全不选</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="127"/>
        <source>Rules profile (*.yaml *.yml)</source>
        <translation>规则配置 (*.yaml *.yml)</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="128"/>
        <source>Optional local rules profile; empty: the national defaults</source>
        <translation>可选的地方规则配置；留空：使用国家标准默认值</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="129"/>
        <source>Rules profile</source>
        <translation>规则配置</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="132"/>
        <source>GeoTIFF (*.tif *.tiff)</source>
        <translation>GeoTIFF 栅格 (*.tif *.tiff)</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="133"/>
        <source>Optional DEM; empty: PROJECT_dem.tif beside the project if there is one</source>
        <translation>可选的 DEM；留空：使用项目旁的 PROJECT_dem.tif（如有）</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="134"/>
        <source>DEM</source>
        <translation>数字高程模型 DEM</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="137"/>
        <source>Whole project</source>
        <translation>整个项目</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="138"/>
        <source>Renovation area</source>
        <translation>改造片区</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="139"/>
        <source>Show certain findings only</source>
        <translation>只显示确定的问题</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="146"/>
        <source>Run checks</source>
        <translation>运行检查</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="152"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="167"/>
        <source>Findings</source>
        <translation>检查结果</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="182"/>
        <source>Search ids, features, messages, notes…</source>
        <translation>搜索编号、要素、说明、审核意见…</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="216"/>
        <source>Review note (optional)</source>
        <translation>审核意见（可选）</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="217"/>
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="219"/>
        <source>Set the review of the selected findings</source>
        <translation>设置所选检查结果的审核状态</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="221"/>
        <source>Review</source>
        <translation>审核</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="251"/>
        <source>All rules</source>
        <translation>全部规则</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="251"/>
        <source>All severities</source>
        <translation>全部严重程度</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="252"/>
        <source>All certainties</source>
        <translation>全部确定性</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="252"/>
        <source>All reviews</source>
        <translation>全部审核状态</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="350"/>
        <source>Open a project first</source>
        <translation>请先打开一个项目</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="353"/>
        <source>The checks are already running</source>
        <translation>检查正在运行</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="357"/>
        <source>Choose at least one rule</source>
        <translation>请至少选择一条规则</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="360"/>
        <source>Checking conflicts</source>
        <translation>正在进行冲突检查</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="370"/>
        <source>Checking…</source>
        <translation>正在检查…</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="412"/>
        <source>{0} findings ({1} certain): {2} new, {3} resolved</source>
        <translation>共 {0} 个问题（{1} 个确定）：新增 {2} 个，已解决 {3} 个</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="422"/>
        <source>The checks failed: {0}</source>
        <translation>检查失败：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="427"/>
        <source>Checks canceled: nothing was written</source>
        <translation>检查已取消：未写入任何内容</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="438"/>
        <source>Could not read the findings: {0}</source>
        <translation>无法读取检查结果：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="457"/>
        <source>{0} of {1} findings</source>
        <translation>显示 {0} / 共 {1} 条</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="532"/>
        <source>Select one or more findings first</source>
        <translation>请先选择一条或多条检查结果</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="539"/>
        <source>Could not save the review: {0}</source>
        <translation>无法保存审核：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="545"/>
        <source>{0} findings set to {1}</source>
        <translation>已将 {0} 条检查结果设为{1}</translation>
    </message>
</context>
<context>
    <name>DemoAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms.py" line="121"/>
        <source>Build demo district</source>
        <translation>生成示范片区</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="124"/>
        <source>Builds the synthetic demo district (buildings, roads, pipelines, trees, parking, DEM) as a Renewal Planner project in the output folder.</source>
        <translation>在输出文件夹中生成合成示范片区（建筑、道路、管线、树木、停车、DEM），作为一个城市更新规划助手项目。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="128"/>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="130"/>
        <source>Random seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="133"/>
        <source>Project GeoPackage</source>
        <translation>项目 GeoPackage</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="142"/>
        <source>No output folder given</source>
        <translation>未指定输出文件夹</translation>
    </message>
</context>
<context>
    <name>InitAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms.py" line="69"/>
        <source>Create project</source>
        <translation>创建项目</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="72"/>
        <source>Creates an empty Renewal Planner project GeoPackage with every layer, code list, style and form. The CRS must be projected in metres (CGCS2000 / 3-degree Gauss-Kruger, e.g. EPSG:4547). An existing file is never overwritten.</source>
        <translation>创建一个空的城市更新规划助手项目 GeoPackage，包含全部图层、代码表、样式和表单。坐标系必须是以米为单位的投影坐标系（CGCS2000 / 3 度带高斯-克吕格，例如 EPSG:4547）。不会覆盖已有文件。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="78"/>
        <source>Project GeoPackage</source>
        <translation>项目 GeoPackage</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="78"/>
        <source>GeoPackage (*.gpkg)</source>
        <translation>GeoPackage (*.gpkg)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="82"/>
        <source>Coordinate reference system</source>
        <translation>坐标参考系</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="97"/>
        <source>Invalid CRS: {0}</source>
        <translation>无效的坐标系：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="100"/>
        <source>No project file given</source>
        <translation>未指定项目文件</translation>
    </message>
</context>
<context>
    <name>ProjectTab</name>
    <message>
        <location filename="../plugin/dock.py" line="91"/>
        <source>Current project</source>
        <translation>当前项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="93"/>
        <source>No project open</source>
        <translation>未打开项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="100"/>
        <source>New project…</source>
        <translation>新建项目…</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="102"/>
        <source>Create an empty project GeoPackage with every layer</source>
        <translation>创建包含全部图层的空项目 GeoPackage</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="104"/>
        <source>Open project…</source>
        <translation>打开项目…</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="106"/>
        <source>Add the styled layers of a project GeoPackage to the map</source>
        <translation>将项目 GeoPackage 中已配样式的图层添加到地图</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="108"/>
        <source>Open demo</source>
        <translation>打开示范项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="110"/>
        <source>Build the demo district (with DEM) and open it</source>
        <translation>生成示范片区（含 DEM）并打开</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="119"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="161"/>
        <source>New Renewal Planner project</source>
        <translation>新建城市更新规划项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="183"/>
        <source>GeoPackage (*.gpkg)</source>
        <translation>GeoPackage (*.gpkg)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="175"/>
        <source>Could not create the project: {0}</source>
        <translation>无法创建项目：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="178"/>
        <source>Created project {0}</source>
        <translation>已创建项目 {0}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="183"/>
        <source>Open Renewal Planner project</source>
        <translation>打开城市更新规划项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="199"/>
        <source>Could not open the project: {0}</source>
        <translation>无法打开项目：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="218"/>
        <source>Building the Renewal Planner demo district</source>
        <translation>正在生成城市更新示范片区</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="225"/>
        <source>The demo did not return a project</source>
        <translation>示范程序未返回项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="227"/>
        <source>Demo district built in {0}</source>
        <translation>示范片区已生成于 {0}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="233"/>
        <source>Another task is still running</source>
        <translation>另一个任务仍在运行</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="252"/>
        <source>{0} failed: {1}</source>
        <translation>{0} 失败：{1}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="256"/>
        <source>{0}: canceled</source>
        <translation>{0}：已取消</translation>
    </message>
</context>
<context>
    <name>RenewalPlannerAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms.py" line="35"/>
        <source>Project</source>
        <translation>项目</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="53"/>
        <source>Missing Python packages: {0}</source>
        <translation>缺少 Python 软件包：{0}</translation>
    </message>
</context>
<context>
    <name>RenewalPlannerDock</name>
    <message>
        <location filename="../plugin/dock.py" line="304"/>
        <source>Renewal Planner / 城市更新规划助手</source>
        <translation>城市更新规划助手 / Renewal Planner</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="308"/>
        <source>Project</source>
        <translation>项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="317"/>
        <source>Checks</source>
        <translation>冲突检查</translation>
    </message>
</context>
<context>
    <name>RenewalPlannerPlugin</name>
    <message>
        <location filename="../plugin/main.py" line="126"/>
        <source>Renewal Planner</source>
        <translation>城市更新规划助手</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="103"/>
        <source>Show or hide the Renewal Planner dock</source>
        <translation>显示或隐藏城市更新规划助手面板</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="115"/>
        <source>{0} {1} (need &gt;= {2})</source>
        <translation>{0} {1}（需要 &gt;= {2}）</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="115"/>
        <source>{0} (not installed)</source>
        <translation>{0}（未安装）</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="119"/>
        <source>QGIS&apos;s Python lacks {0}. Install with: {1} (add --break-system-packages on Debian 12 and later), or run `make run` from the Renewal Planner source tree. Until then the features that need them are disabled.</source>
        <translation>QGIS 的 Python 缺少 {0}。安装命令：{1}（Debian 12 及更高版本需加 --break-system-packages），或在城市更新规划助手源码目录中运行 `make run`。在此之前，需要这些软件包的功能不可用。</translation>
    </message>
</context>
<context>
    <name>RenewalPlannerProvider</name>
    <message>
        <location filename="../plugin/provider.py" line="25"/>
        <source>Renewal Planner: urban renewal planning and conflict checks</source>
        <translation>城市更新规划助手：城市更新规划与冲突检查</translation>
    </message>
</context>
<context>
    <name>ReviewPanel</name>
    <message>
        <location filename="../plugin/review_panel.py" line="63"/>
        <source>Group by</source>
        <translation>分组方式</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="66"/>
        <source>No grouping</source>
        <translation>不分组</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="66"/>
        <source>Renovation area</source>
        <translation>改造片区</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="66"/>
        <source>Rule</source>
        <translation>规则</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="66"/>
        <source>Owner of the pipes</source>
        <translation>管线权属单位</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="66"/>
        <source>Review status</source>
        <translation>审核状态</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="77"/>
        <source>Group</source>
        <translation>分组</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="77"/>
        <source>Findings</source>
        <translation>检查结果</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="84"/>
        <source>Select all shown</source>
        <translation>全选所示</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="86"/>
        <source>Select every finding shown, to review them at once</source>
        <translation>选中列表中显示的全部结果，一次完成审核</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="92"/>
        <source>Export owner sheets…</source>
        <translation>导出权属单位审核表…</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="94"/>
        <source>One XLSX per owner of the pipes involved, to send to the utilities for review</source>
        <translation>按涉及管线的权属单位各导出一个 XLSX，发给各管线单位审核</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="97"/>
        <source>Import owner sheet…</source>
        <translation>导入权属单位审核表…</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="99"/>
        <source>Apply the review statuses and notes of a returned owner sheet</source>
        <translation>应用返回的权属单位审核表中的审核状态和意见</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="134"/>
        <source>Could not group the findings: {0}</source>
        <translation>无法对检查结果分组：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="142"/>
        <source>All findings</source>
        <translation>全部检查结果</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="198"/>
        <source>Folder for the owner sheets</source>
        <translation>审核表保存文件夹</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="211"/>
        <source>Could not write the owner sheets: {0}</source>
        <translation>无法写出审核表：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="217"/>
        <source>{0} owner sheets written to {1}</source>
        <translation>已写出 {0} 份审核表到 {1}</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="219"/>
        <source>No finding involves a pipe of a known owner: no sheet written</source>
        <translation>没有检查结果涉及已知权属单位的管线：未写出审核表</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="225"/>
        <source>Returned owner sheet</source>
        <translation>返回的审核表</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="225"/>
        <source>Excel workbook (*.xlsx)</source>
        <translation>Excel 工作簿 (*.xlsx)</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="240"/>
        <source>Could not import the owner sheet: {0}</source>
        <translation>无法导入审核表：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="246"/>
        <source>{0}: {1} reviews applied, {2} unchanged</source>
        <translation>{0}：已应用 {1} 条审核，{2} 条未变</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="250"/>
        <source>{0} rows not applied (unknown id, invalid status or repeated): rows {1}</source>
        <translation>{0} 行未应用（编号未知、状态无效或重复）：第 {1} 行</translation>
    </message>
</context>
</TS>
